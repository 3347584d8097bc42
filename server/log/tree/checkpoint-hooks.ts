/**
 * What a checkpoint consumer (witness cosigning, timestamping) is handed: every checkpoint the
 * publisher stores, once, after it is stored. Hooks add cosignatures through
 * `LogStore.addCheckpointSignatures` and get proofs from `TreeProofs` (proofs.ts).
 */
export interface SignedCheckpoint {
  issuerId: string;
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** note body (the checkpoint text the log key signs) */
  body: string;
  /** the signed note as stored (log signature first, then any cosignatures) */
  note: string;
}

export interface CheckpointHook {
  readonly name: string;
  /** Called after a new checkpoint is stored; must not throw or block (fire and forget). */
  onCheckpoint(cp: SignedCheckpoint): void;
}
