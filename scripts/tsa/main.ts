/**
 * `npm run tsa`: a development RFC 3161 time-stamping authority whose keys live in (local) KMS.
 * Prints one "listening" line on stdout once ready. Not a trust service: see README.md.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { issueTsaCertificates } from "./certificates.js";
import { KmsSigner } from "./kms-signer.js";
import { Responder } from "./responder.js";

const USAGE = `Usage: npm run tsa -- [options]

A development RFC 3161 / RFC 5816 time-stamping authority. Its key and its dev CA's key are in KMS
(KMS_ENDPOINT for the local KMS; region from KMS_REGION / AWS_REGION, default eu-west-1).

  POST /               application/timestamp-query -> application/timestamp-reply
  GET  /v1/public/tsa.pem        the TSA certificate
  GET  /v1/public/tsa-ca.pem     the dev TSA CA (pin this one)
  GET  /v1/public/tsa-chain.pem  TSA certificate then CA

Options:
  --port N             listen port (default 3161; 0 = any free port)
  --host H             listen address (default 127.0.0.1)
  --policy OID         TSAPolicyId (default 1.3.6.1.4.1.32473.3161.1, under the RFC 5612 example PEN)
  --alias NAME         KMS alias prefix (default alias/kakunin-dev-tsa; "-ca" is appended for the CA)
  --name TEXT          name in the certificates' CN (default Kakunin)
  --accuracy S         accuracy stated in tokens, seconds (default 1)
  --kms-timeout-ms N   deadline per KMS call (default 5000)
  --clock-offset-ms N  shift the clock (tests of genTime; default 0)
  -h, --help           this text
`;

const MAX_BODY = 16 * 1024;

function problem(res: ServerResponse, status: number, code: string, detail: string): void {
  res.writeHead(status, { "content-type": "application/problem+json" });
  res.end(JSON.stringify({ type: "about:blank", title: detail, status, code, detail }));
}

async function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Past the limit keep draining (not storing) so the 413 can still be written on this socket.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  return size > MAX_BODY ? undefined : new Uint8Array(Buffer.concat(chunks));
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        policy: { type: "string" },
        alias: { type: "string" },
        name: { type: "string" },
        accuracy: { type: "string" },
        "kms-timeout-ms": { type: "string" },
        "clock-offset-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  let port, accuracy, timeoutMs, offsetMs;
  try {
    port = int(values.port, 3161, "--port");
    accuracy = int(values.accuracy, 1, "--accuracy");
    timeoutMs = int(values["kms-timeout-ms"], 5000, "--kms-timeout-ms");
    offsetMs = int(values["clock-offset-ms"], 0, "--clock-offset-ms");
    if (values.policy && !/^[0-2](\.\d+)+$/.test(values.policy))
      throw new Error(`--policy must be an OID, got ${JSON.stringify(values.policy)}`);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const policy = values.policy ?? "1.3.6.1.4.1.32473.3161.1";
  const alias = values.alias ?? "alias/kakunin-dev-tsa";
  const name = values.name ?? "Kakunin";

  const kms = new KmsSigner({
    endpoint: process.env.KMS_ENDPOINT || undefined,
    region: process.env.KMS_REGION || process.env.AWS_REGION || "eu-west-1",
    timeoutMs,
  });
  const caKey = await kms.ensureKey(`${alias}-ca`, "Kakunin dev TSA CA");
  const tsaKey = await kms.ensureKey(alias, "Kakunin dev TSA");
  const { ca, tsa } = await issueTsaCertificates(kms, caKey, tsaKey, name);
  const responder = new Responder({
    certificate: new Uint8Array(tsa.rawData),
    policy,
    accuracySeconds: accuracy,
    now: () => new Date(Date.now() + offsetMs),
    signDigest: (digest) => kms.signDigest(tsaKey.keyId, digest),
    onSystemFailure: (err) => process.stderr.write(`tsa: signing failed: ${(err as Error).message}\n`),
  });
  const pem = { tsa: tsa.toString("pem") + "\n", ca: ca.toString("pem") + "\n" };
  const files: Record<string, string> = {
    "/v1/public/tsa.pem": pem.tsa,
    "/v1/public/tsa-ca.pem": pem.ca,
    "/v1/public/tsa-chain.pem": pem.tsa + pem.ca,
  };

  const server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "GET" && files[path]) {
      res.writeHead(200, { "content-type": "application/pem-certificate-chain" });
      res.end(files[path]);
      return;
    }
    if (path !== "/") return problem(res, 404, "ERR_NOT_FOUND", `no route ${path}`);
    if (req.method !== "POST") return problem(res, 405, "ERR_METHOD", "POST an application/timestamp-query");
    if ((req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase() !== "application/timestamp-query") {
      return problem(res, 415, "ERR_CONTENT_TYPE", "Content-Type must be application/timestamp-query");
    }
    readBody(req).then(
      async (body) => {
        if (!body) return problem(res, 413, "ERR_TOO_LARGE", `a TimeStampReq is at most ${MAX_BODY} bytes`);
        const reply = await responder.respond(body);
        res.writeHead(200, { "content-type": "application/timestamp-reply", "content-length": reply.length });
        res.end(reply);
      },
      () => problem(res, 400, "ERR_BODY", "the request body could not be read"),
    );
  });
  server.listen(port, values.host ?? "127.0.0.1", () => {
    const addr = server.address();
    const actual = typeof addr === "object" && addr ? addr.port : port;
    process.stdout.write(
      `Dev TSA listening on http://${values.host ?? "127.0.0.1"}:${actual} (policy ${policy}, key ${alias})\n`,
    );
  });
  const shutdown = () => server.close(() => process.exit(0));
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((err) => {
  process.stderr.write(`dev TSA failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
