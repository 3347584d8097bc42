/** worker_threads entry: runs worker-core's LineVerifier on batches posted by NodeWorkerPool. */
import { parentPort } from "node:worker_threads";
import { LineVerifier } from "../worker-core.js";
import { nodeLineCrypto } from "./node-crypto.js";

const verifier = new LineVerifier(undefined, nodeLineCrypto());
const port = parentPort!;

port.on("message", (msg: { id: number; type: "keys"; keys: [string, Uint8Array][] } | { id: number; type: "lines"; lines: string[] }) => {
  if (msg.type === "keys") {
    verifier.setKeys(new Map(msg.keys));
    port.postMessage({ id: msg.id, results: [] });
    return;
  }
  verifier.verifyLines(msg.lines).then(
    (results) => port.postMessage({ id: msg.id, results }),
    (e: unknown) => port.postMessage({ id: msg.id, error: String(e) }),
  );
});
