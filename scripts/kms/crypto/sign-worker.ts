import { createPrivateKey, type KeyObject } from "node:crypto";
import { parentPort } from "node:worker_threads";
import { publicKeyOf, signMessage, verifyMessage } from "./sign.js";
import type { WorkerReply, WorkerRequest } from "./worker-protocol.js";

/** Worker thread: holds parsed keys and does the CPU-heavy RSA/ECDSA operations off the HTTP thread. */
const port = parentPort;
if (!port) throw new Error("sign-worker must run in a worker thread");

const keys = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();

port.on("message", (req: WorkerRequest) => {
  if (req.op === "forget") {
    keys.delete(req.keyId);
    return;
  }
  let reply: WorkerReply;
  try {
    let key = keys.get(req.keyId);
    if (!key) {
      if (!req.privateKeyDer) throw new Error(`key ${req.keyId} not loaded in worker`);
      const privateKey = createPrivateKey({ key: Buffer.from(req.privateKeyDer), format: "der", type: "pkcs8" });
      key = { privateKey, publicKey: publicKeyOf(privateKey) };
      keys.set(req.keyId, key);
    }
    const message = Buffer.from(req.message);
    if (req.op === "sign") {
      const signature = signMessage(key.privateKey, req.algorithm, req.messageType, message);
      reply = { id: req.id, ok: true, signature };
    } else {
      const valid = verifyMessage(key.publicKey, req.algorithm, req.messageType, message, Buffer.from(req.signature ?? []));
      reply = { id: req.id, ok: true, valid };
    }
  } catch (err) {
    reply = { id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});

port.postMessage({ id: 0, ready: true } satisfies WorkerReply);
