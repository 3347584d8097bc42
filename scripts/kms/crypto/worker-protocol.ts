import type { SigningAlgorithm } from "../key-specs.js";
import type { MessageType } from "./sign.js";

/** Messages between the main thread and the signing workers. */
export interface WorkerJob {
  id: number;
  op: "sign" | "verify";
  keyId: string;
  /** PKCS#8 DER, sent only the first time this worker sees the key (it caches the KeyObject). */
  privateKeyDer?: Uint8Array;
  algorithm: SigningAlgorithm;
  messageType: MessageType;
  message: Uint8Array;
  signature?: Uint8Array;
}

export interface ForgetKey {
  id: -1;
  op: "forget";
  keyId: string;
}

/**
 * What the pool posts: the jobs queued for this worker since the last post (one message per event
 * loop turn, not one per job: each message costs both threads a wake-up), or a ForgetKey.
 */
export type WorkerRequest = WorkerJob[] | ForgetKey;

/**
 * A signature crosses back base64-encoded, as the Sign response needs it: encoded in the worker
 * rather than on the event loop, and a string is cloned without allocating an ArrayBuffer.
 */
export type JobReply =
  { id: number; ok: true; signature?: string; valid?: boolean } | { id: number; ok: false; error: string };

/** The worker answers a batch with one message (the replies in job order), or says it is ready. */
export type WorkerReply = JobReply[] | { id: 0; ready: true };
