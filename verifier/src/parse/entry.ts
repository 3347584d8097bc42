/**
 * Shape checks for entries and checkpoints (FORMATS.md "Entry", "Checkpoint"): attacker-controlled
 * JSON in, the wire types of formats/wire.ts out, as the verifier reads them. pkijs-free: workers use it.
 */
import { malformed } from "../errors.js";
import type { Checkpoint, LifecycleContract, LogEntry, SignerRef } from "../formats/wire.js";
import { B64, HASH, SERIAL_RE, int, isObject, obj, str, time, type Json } from "./fields.js";

/** The signer block as read: any `alg` (an entry signed otherwise than with ENTRY_ALG does not verify). */
export type Signer = Omit<SignerRef, "alg"> & { alg: string };

/**
 * The fields of an entry the verifier relies on (the raw object is what gets hashed): the wire
 * entry with `time` in epoch ms, and lifecycle `details` narrowed to what verifiers cross-check
 * (absent for other types).
 */
export type EntryFields = Omit<LogEntry, "v" | "time" | "signer" | "details"> & {
  time: number;
  signer: Signer;
  details?: LifecycleContract;
};

/** The fields of a checkpoint, `time` in epoch ms. */
export type CheckpointFields = Omit<Checkpoint, "time" | "signer"> & { time: number; signer: Signer };

function signer(parent: Json, path: string): Signer {
  const s = obj(parent, "signer", path);
  const p = `${path}.signer`;
  return { cert: str(s, "cert", p, SERIAL_RE), key: str(s, "key", p), alg: str(s, "alg", p) };
}

/** Validates an entry object (attacker-controlled) and returns its typed fields. Throws ERR_MALFORMED. */
export function parseEntry(e: unknown, path = "entry"): EntryFields {
  if (!isObject(e)) throw malformed(`${path} must be an object`, { field: path });
  if (e.v !== 1) throw malformed(`${path}.v must be 1`, { field: `${path}.v` });
  const type = str(e, "type", path, /^[a-z][a-z0-9._-]{0,63}$/);
  const out: EntryFields = {
    seq: int(e, "seq", path),
    time: time(e, "time", path),
    type,
    issuer: str(e, "issuer", path, /^.{1,256}$/),
    agent: str(e, "agent", path, /^.{1,256}$/),
    signer: signer(e, path),
    payloadHash: str(e, "payloadHash", path, HASH),
    prevHash: str(e, "prevHash", path, HASH),
    hash: str(e, "hash", path, HASH),
    sig: str(e, "sig", path, B64),
  };
  if (e.details !== undefined && !isObject(e.details)) {
    throw malformed(`${path}.details must be an object`, { field: `${path}.details` });
  }
  const dp = `${path}.details`;
  if (type === "agent.registered") {
    const d = obj(e, "details", path);
    out.details = { type, cert: str(d, "cert", dp, SERIAL_RE) };
  } else if (type === "key.rotated") {
    const d = obj(e, "details", path);
    out.details = { type, oldCert: str(d, "oldCert", dp, SERIAL_RE), newCert: str(d, "newCert", dp, SERIAL_RE) };
  } else if (type === "certificate.revoked") {
    const d = obj(e, "details", path);
    out.details = { type, cert: str(d, "cert", dp, SERIAL_RE), reason: str(d, "reason", dp) };
  }
  return out;
}

/** Validates a checkpoint object (attacker-controlled). Throws ERR_MALFORMED. */
export function parseCheckpoint(c: unknown, path = "checkpoint"): CheckpointFields {
  if (!isObject(c)) throw malformed(`${path} must be an object`, { field: path });
  return {
    issuer: str(c, "issuer", path),
    size: int(c, "size", path),
    head: str(c, "head", path, HASH),
    time: time(c, "time", path),
    signer: signer(c, path),
    sig: str(c, "sig", path, B64),
  };
}
