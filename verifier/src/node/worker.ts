/** worker_threads entry: runs worker-core's LineVerifier on batches posted by NodeWorkerPool. */
import { parentPort } from "node:worker_threads";
import { LineVerifier } from "../worker-core.js";
import { encodeResults } from "./compact.js";
import { nodeLineCrypto } from "./node-crypto.js";

const verifier = new LineVerifier(undefined, nodeLineCrypto());
const port = parentPort!;

type Msg =
  | { id: number; type: "keys"; keys: [string, Uint8Array][] }
  | { id: number; type: "lines"; lines: string[] }
  | { id: number; type: "text"; text: string; count: number };

port.on("message", (msg: Msg) => {
  if (msg.type === "keys") {
    verifier.setKeys(new Map(msg.keys));
    port.postMessage({ id: msg.id, results: [] });
    return;
  }
  const lines = msg.type === "text" ? msg.text.split("\n") : msg.lines;
  if (lines.length !== (msg.type === "text" ? msg.count : lines.length)) {
    port.postMessage({ id: msg.id, error: `batch split into ${lines.length} lines, expected ${(msg as { count: number }).count}` });
    return;
  }
  verifier.verifyLines(lines).then(
    (results) => {
      const { msg: compact, transfer } = encodeResults(results);
      port.postMessage({ id: msg.id, compact }, transfer);
    },
    (e: unknown) => port.postMessage({ id: msg.id, error: String(e) }),
  );
});
