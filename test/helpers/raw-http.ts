/**
 * Raw HTTP/1.1 over a TCP socket, for what fetch cannot do: trickle a body, send oversized headers,
 * stop sending half-way, and see exactly what the server writes and when it closes.
 */
import net from "node:net";

export interface RawExchange {
  socket: net.Socket;
  /** Everything the server wrote until it closed the connection. */
  closed: Promise<{ text: string; ms: number; error?: string }>;
  /** Resolves once a full response head has arrived. */
  head: Promise<string>;
}

/** Connect to `url`'s host and write `initial` (head, maybe part of a body). */
export function rawExchange(url: string, initial: string | Buffer): RawExchange {
  const u = new URL(url);
  const socket = net.connect({ host: u.hostname, port: Number(u.port) });
  const started = Date.now();
  let text = "";
  let gotHead: (s: string) => void;
  const head = new Promise<string>((r) => {
    gotHead = r;
  });
  const closed = new Promise<{ text: string; ms: number; error?: string }>((resolve) => {
    let error: string | undefined;
    socket.on("data", (d) => {
      text += d.toString("latin1");
      if (text.includes("\r\n\r\n")) gotHead(text);
    });
    socket.on("error", (e) => {
      error = (e as NodeJS.ErrnoException).code ?? e.message;
    });
    socket.on("close", () => resolve({ text, ms: Date.now() - started, ...(error ? { error } : {}) }));
  });
  socket.write(initial);
  return { socket, closed, head };
}

/** Status and JSON body of a raw response text (Content-Length framed). */
export function parseRawResponse(text: string): { status: number; headers: Record<string, string>; json: any } {
  const end = text.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  let json: any;
  try {
    json = JSON.parse(text.slice(end + 4, end + 4 + Number(headers["content-length"] ?? text.length)));
  } catch {
    json = undefined;
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, json };
}
