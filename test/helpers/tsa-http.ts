import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP TSA endpoint on 127.0.0.1 (a free port) around any reply function: the
 * `openssl ts -reply` TSA served over HTTP, or an attacker-controlled TSA that replays a recorded
 * reply. Records the queries it was sent.
 */
export interface HttpTsa {
  url: string;
  queries: Uint8Array[];
  close(): Promise<void>;
}

export async function serveTsa(reply: (query: Uint8Array) => Promise<Uint8Array> | Uint8Array): Promise<HttpTsa> {
  const queries: Uint8Array[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const query = new Uint8Array(Buffer.concat(chunks));
      queries.push(query);
      Promise.resolve()
        .then(() => reply(query))
        .then(
          (body) => {
            res.writeHead(200, { "content-type": "application/timestamp-reply", "content-length": body.length });
            res.end(body);
          },
          (err: unknown) => {
            res.writeHead(500, { "content-type": "text/plain" });
            res.end(String(err));
          },
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    queries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
