/** c2sp.org/tlog-proof@v1: index, inclusion proof and the checkpoint note verbatim, as text. */
import type { Bytes } from "./bytes.js";
import { base64Decode, base64Encode } from "./bytes.js";
import { VerificationError } from "./errors.js";
import { HASH_SIZE } from "./merkle.js";

/** The first line of every tlog proof. */
export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";

/** A parsed tlog proof. `extra` is unauthenticated: never trust it. */
export interface TlogProof {
  extra?: Bytes;
  index: number;
  proof: Bytes[];
  /** The checkpoint signed note, verbatim (open it with openNote). */
  checkpoint: string;
}

/** Formats a tlog proof. */
export function formatTlogProof(p: TlogProof): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0)
    throw new VerificationError("ERR_NOTE_FORMAT", "index must be a non-negative integer", { field: "index" });
  for (const h of p.proof)
    if (h.length !== HASH_SIZE)
      throw new VerificationError("ERR_NOTE_FORMAT", "proof hashes must be 32 bytes", { field: "proof" });
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${base64Encode(p.extra)}`);
  lines.push(`index ${p.index}`, ...p.proof.map(base64Encode), "");
  return `${lines.join("\n")}\n${p.checkpoint}`;
}

/** Parses a tlog proof strictly; the checkpoint is returned as text, not yet verified. */
export function parseTlogProof(text: string): TlogProof {
  const lines = text.split("\n");
  let at = 0;
  if (lines[at++] !== TLOG_PROOF_HEADER)
    throw new VerificationError("ERR_NOTE_FORMAT", `first line must be ${TLOG_PROOF_HEADER}`, { line: 1 });
  let extra: Bytes | undefined;
  if (lines[at]?.startsWith("extra ")) extra = base64Decode(lines[at++]!.slice(6), "extra");
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines[at] ?? "");
  if (!m)
    throw new VerificationError("ERR_NOTE_FORMAT", "expected `index N` without leading zeroes", {
      line: at + 1,
      field: "index",
    });
  const index = Number(m[1]);
  if (!Number.isSafeInteger(index))
    throw new VerificationError("ERR_NOTE_FORMAT", "index too large", { line: at + 1, field: "index" });
  at++;
  const proof: Bytes[] = [];
  while (at < lines.length && lines[at] !== "") {
    const h = base64Decode(lines[at]!, "proof");
    if (h.length !== HASH_SIZE || base64Encode(h) !== lines[at])
      throw new VerificationError("ERR_NOTE_FORMAT", "proof line is not canonical base64 of 32 bytes", {
        line: at + 1,
        field: "proof",
      });
    proof.push(h);
    at++;
  }
  if (at >= lines.length)
    throw new VerificationError("ERR_NOTE_FORMAT", "missing empty line before the checkpoint", { line: at + 1 });
  const checkpoint = lines.slice(at + 1).join("\n");
  if (checkpoint === "") throw new VerificationError("ERR_NOTE_FORMAT", "missing checkpoint", { line: at + 2 });
  return { ...(extra !== undefined ? { extra } : {}), index, proof, checkpoint };
}
