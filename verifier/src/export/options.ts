/** The options of an export verification, and the named steps its report lists. */
import type { CrlArg } from "../checks/crl/index.js";
import type { TreeOptions } from "../checks/tree/index.js";
import type { SignaturePool } from "../pool.js";
import type { TrustAnchor } from "../trust/anchor.js";

/**
 * Options for `verifyExport` and `verifyExportBytes`. The log v2 ones (TreeOptions): `logKeys` and
 * `policy` pin the log's signed-note keys and witnesses for the tree-checkpoint lines, `since` is
 * a checkpoint the export must extend, `treeHash` a faster SHA-256 for the tree.
 */
export interface VerifyExportOptions extends TreeOptions {
  /** The pinned CA. The export's own CA is never trusted by itself. */
  trust: TrustAnchor;
  /** Where per-entry work runs; default: in this thread. */
  pool?: SignaturePool;
  /** Called after each batch with running totals. */
  onProgress?(p: { lines: number; entries: number }): void;
  /**
   * CRLs besides the export's own (PEM or base64 DER, optionally labelled with their source, e.g.
   * `--crl` files or one fetched online): the newest valid one decides. See checks/crl.
   */
  crls?: CrlArg[];
  /** Time to judge CRL freshness against; default: now. */
  now?: Date;
  /** Lines per batch sent to the pool (default 512). */
  batchSize?: number;
  /** A batch is also sent once its lines reach this many characters (default 1 MiB), so memory stays bounded with long lines. */
  batchChars?: number;
}

/** The steps of an export verification, in report order. */
export const STEP = {
  parse: "parse",
  trust: "trust root",
  certs: "certificate paths",
  crl: "CRL",
  links: "chain links",
  sigs: "entry signatures",
  status: "certificate status",
  payloads: "payloads",
  checkpoint: "checkpoint",
  tree: "tree",
} as const;
export type StepName = (typeof STEP)[keyof typeof STEP];
