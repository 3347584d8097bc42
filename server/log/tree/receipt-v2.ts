/**
 * kakunin-receipt/2: every kakunin-receipt/1 member of a stored entry plus `proof`, the
 * c2sp.org/tlog-proof@v1 text (index, inclusion proof, the covering checkpoint note verbatim with
 * every signature it has). Available once a checkpoint covers the entry; `waitMs` waits for one.
 */
import { ForbiddenError, NotFoundError } from "../../errors.js";
import type { AuditLog } from "../audit-log.js";
import { RECEIPT_V2_FORMAT, type ReceiptV2 } from "../types.js";
import type { LogV2 } from "./log-v2.js";

// The wire type is the formats' one (verifier/src/formats/wire.ts); re-exported for the routes.
export { RECEIPT_V2_FORMAT, type ReceiptV2 };
/** The longest a receipt request may wait for a covering checkpoint. */
export const MAX_RECEIPT_WAIT_MS = 5000;

/** Thrown while no checkpoint covers the entry yet (the route answers 404 with Retry-After). */
export class ReceiptNotReadyError extends NotFoundError {
  constructor(seq: number) {
    super(`No checkpoint covers entry ${seq} yet; try again shortly (or ask with ?wait=5)`, "ERR_RECEIPT_NOT_READY");
  }
}

export async function receiptV2(
  log: AuditLog,
  v2: LogV2,
  issuerId: string,
  seq: number,
  opts: {
    agentId?: string;
    waitMs?: number;
    /** The smallest timestamped checkpoint covering the entry, when there is one (then `proof` is against it). */
    stamped?: (seq: number) => Promise<{ proof: string; timestamps: string[] } | undefined>;
  } = {},
): Promise<ReceiptV2> {
  const v1 = await log.storedReceipt(issuerId, seq);
  if (!v1) throw new NotFoundError(`Entry ${seq} is not in the log`, "ERR_ENTRY_NOT_FOUND");
  if (opts.agentId !== undefined && v1.entry.agent !== opts.agentId)
    throw new ForbiddenError("An agent may read the receipts of its own entries only");
  const proved = await v2.entryProof(issuerId, seq, Math.min(MAX_RECEIPT_WAIT_MS, Math.max(0, opts.waitMs ?? 0)));
  if (!proved) throw new ReceiptNotReadyError(seq);
  const stamped = await opts.stamped?.(seq);
  if (stamped) return { ...v1, format: RECEIPT_V2_FORMAT, proof: stamped.proof, timestamps: stamped.timestamps };
  return { ...v1, format: RECEIPT_V2_FORMAT, proof: proved.proof };
}
