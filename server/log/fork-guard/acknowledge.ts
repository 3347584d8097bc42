/**
 * An operator's decision to continue a frozen chain from the database's current head
 * (`npm run server -- --acknowledge-fork <issuer id>`): recorded in the archive, where it becomes
 * the new baseline (archive.ts `baseline`). See server/deploy/README.md ("Backups and restores").
 */
import type { LogStore } from "../storage/log-store.js";
import type { ForkAcknowledgement, ForkArchive } from "./archive.js";

/** Record the operator's decision to continue an issuer's chain from the database's current head. */
export async function acknowledgeFork(
  store: LogStore,
  archive: ForkArchive,
  issuerId: string,
  reason: string,
  now: Date,
): Promise<ForkAcknowledgement> {
  const head = await store.head(issuerId);
  const base = await archive.baseline(issuerId);
  const ack: ForkAcknowledgement = {
    kind: "fork-acknowledged",
    issuer: issuerId,
    time: now.toISOString(),
    abandoned: base ? { size: base.size, head: base.head } : null,
    resumedAt: { size: head.size, head: head.head },
    reason,
  };
  await archive.append(issuerId, ack);
  return ack;
}
