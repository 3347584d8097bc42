/**
 * The wire types are defined once (verifier/src/formats/wire.ts); the server's zod/OpenAPI schemas
 * (server/log/wire-schemas.ts) must describe the same objects. At compile time: `z.infer` of each
 * schema and its formats type are assignable both ways (`npm run typecheck` fails otherwise). At
 * run time: the same member names, and an entry built the way the server builds it passes the
 * schema, the verifier's parser, and hashes the same under the server's node:crypto adapter and
 * the formats' WebCrypto.
 */
import { describe, expect, it } from "vitest";
import type { z } from "@hono/zod-openapi";
import { CheckpointSchema, LogEntrySchema, ReceiptSchema, SignerRefSchema } from "../../../server/log/wire-schemas.js";
import { entryCanonicalText, sha256 } from "../../../server/log/canonical.js";
import {
  ENTRY_ALG,
  RECEIPT_FORMAT,
  ZERO_HASH,
  entryHash,
  utf8Encode,
  type Checkpoint,
  type LogEntry,
  type Receipt,
  type SignerRef,
  type UnsignedEntry,
} from "../../../verifier/src/formats/index.js";
import { parseCheckpoint, parseEntry } from "../../../verifier/src/index.js";

/** true when A and B are assignable to each other. */
type Interchangeable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// Fails to typecheck as soon as a schema and its type drift apart (a field added, renamed, retyped).
const compileTimeChecks: [
  Interchangeable<z.infer<typeof SignerRefSchema>, SignerRef>,
  Interchangeable<z.infer<typeof LogEntrySchema>, LogEntry>,
  Interchangeable<z.infer<typeof CheckpointSchema>, Checkpoint>,
  Interchangeable<z.infer<typeof ReceiptSchema>, Receipt>,
] = [true, true, true, true];

// Every member of each type, named once (a missing or extra key fails to typecheck).
const SIGNER_REF_KEYS: Record<keyof SignerRef, true> = { cert: true, key: true, alg: true };
const LOG_ENTRY_KEYS: Record<keyof LogEntry, true> = {
  v: true,
  seq: true,
  time: true,
  type: true,
  issuer: true,
  agent: true,
  signer: true,
  payloadHash: true,
  prevHash: true,
  details: true,
  hash: true,
  sig: true,
};
const CHECKPOINT_KEYS: Record<keyof Checkpoint, true> = {
  issuer: true,
  size: true,
  head: true,
  time: true,
  signer: true,
  sig: true,
};
const RECEIPT_KEYS: Record<keyof Receipt, true> = {
  format: true,
  entry: true,
  certificates: true,
  crl: true,
  checkpoint: true,
};

const sorted = (o: object) => Object.keys(o).sort();
const signer: SignerRef = {
  cert: "26a01046ac2d6662cb3b718e0fd5a503",
  key: "arn:aws:kms:eu-west-1:111122223333:key/1382f1d9",
  alg: ENTRY_ALG,
};

/** An entry as the sequencer builds it: canonical text of the unsigned entry, SHA-256 with node:crypto. */
function serverEntry(seq: number, prevHash: string): LogEntry {
  const unsigned: UnsignedEntry = {
    v: 1,
    seq,
    time: "2026-12-02T17:13:02.215Z",
    type: "agent.operation",
    issuer: "iss_e58b3f18df024250e02cce7200de60cb",
    agent: "agt_250b0ad5ee659166c44c72f8c53f0ae2",
    signer,
    payloadHash: "ab".repeat(32),
    prevHash,
    details: { contentType: "application/json" },
  };
  const text = entryCanonicalText(unsigned);
  return {
    ...(JSON.parse(text) as UnsignedEntry),
    hash: sha256(Buffer.from(text, "utf8")).toString("hex"),
    sig: "c2lnbmF0dXJl",
  };
}

describe("server zod schemas against the formats wire types", () => {
  it("the compile-time checks hold (this file typechecks)", () => {
    expect(compileTimeChecks).toEqual([true, true, true, true]);
  });

  it("each schema has exactly the members of its type", () => {
    expect(sorted(SignerRefSchema.shape)).toEqual(sorted(SIGNER_REF_KEYS));
    expect(sorted(LogEntrySchema.shape)).toEqual(sorted(LOG_ENTRY_KEYS));
    expect(sorted(CheckpointSchema.shape)).toEqual(sorted(CHECKPOINT_KEYS));
    expect(sorted(ReceiptSchema.shape)).toEqual(sorted(RECEIPT_KEYS));
  });

  it("an entry built the server's way passes the schema and the verifier's parser, and hashes alike on both sides", async () => {
    const entry = serverEntry(0, ZERO_HASH);
    expect(LogEntrySchema.parse(entry)).toEqual(entry);
    expect(parseEntry(entry)).toMatchObject({ seq: 0, hash: entry.hash, signer });
    // The bytes are defined once (formats); the server hashes them with node:crypto, the verifier with WebCrypto.
    expect(await entryHash(entry as unknown as Record<string, unknown>)).toBe(entry.hash);
    expect(sha256(utf8Encode(entryCanonicalText(entry))).toString("hex")).toBe(entry.hash);

    const checkpoint: Checkpoint = {
      issuer: entry.issuer,
      size: 1,
      head: entry.hash,
      time: entry.time,
      signer,
      sig: "c2ln",
    };
    expect(CheckpointSchema.parse(checkpoint)).toEqual(checkpoint);
    expect(parseCheckpoint(checkpoint)).toMatchObject({ size: 1, head: entry.hash });
    const receipt: Receipt = { format: RECEIPT_FORMAT, entry, certificates: ["agent PEM", "CA PEM"], checkpoint };
    expect(ReceiptSchema.parse(receipt)).toEqual(receipt);
  });

  it("the schemas refuse what the types exclude", () => {
    const entry = serverEntry(1, "cd".repeat(32));
    expect(LogEntrySchema.safeParse({ ...entry, v: 2 }).success).toBe(false);
    expect(
      LogEntrySchema.safeParse({ ...entry, signer: { ...signer, alg: "RSASSA_PKCS1_V1_5_SHA_256" } }).success,
    ).toBe(false);
    expect(LogEntrySchema.safeParse({ ...entry, prevHash: "0".repeat(63) }).success).toBe(false);
    expect(ReceiptSchema.safeParse({ format: "kakunin-receipt/2", entry, certificates: [] }).success).toBe(false);
  });
});
