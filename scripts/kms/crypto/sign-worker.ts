import { createPrivateKey, type KeyObject } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { publicKeyOf, signMessage, verifyMessage } from "./sign.js";
import type { JobReply, WorkerJob, WorkerReply, WorkerRequest } from "./worker-protocol.js";

/** Worker thread: holds parsed keys and does the CPU-heavy RSA/ECDSA operations off the HTTP thread. */
const port = parentPort;
if (!port) throw new Error("sign-worker must run in a worker thread");

const keys = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();

port.on("message", (req: WorkerRequest) => {
  if (!Array.isArray(req)) {
    keys.delete(req.keyId);
    return;
  }
  port.postMessage(req.map(run) satisfies WorkerReply);
});

function run(req: WorkerJob): JobReply {
  try {
    let key = keys.get(req.keyId);
    if (!key) {
      if (!req.privateKeyDer) throw new Error(`key ${req.keyId} not loaded in worker`);
      const privateKey = createPrivateKey({ key: Buffer.from(req.privateKeyDer), format: "der", type: "pkcs8" });
      key = { privateKey, publicKey: publicKeyOf(privateKey) };
      keys.set(req.keyId, key);
    }
    const message = Buffer.from(req.message.buffer, req.message.byteOffset, req.message.byteLength);
    if (req.op === "sign") {
      const signature = signMessage(key.privateKey, req.algorithm, req.messageType, message).toString("base64");
      return { id: req.id, ok: true, signature };
    }
    const sig = req.signature ?? new Uint8Array(0);
    const valid = verifyMessage(
      key.publicKey,
      req.algorithm,
      req.messageType,
      message,
      Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength),
    );
    return { id: req.id, ok: true, valid };
  } catch (err) {
    return { id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

port.postMessage({ id: 0, ready: true } satisfies WorkerReply);
