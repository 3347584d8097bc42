/**
 * Log v2 checks of an export: the tree recomputed over its entries, its tree-checkpoint lines, and
 * `--since` (see export-tree.ts).
 */
export { ExportTree, treeStepDetail, type ProblemSink, type TreeOptions } from "./export-tree.js";
export { judgeNote, logTrustPinned, type LogTrust, type NoteTrust } from "./note-trust.js";
export { openSinceCheckpoint, sinceEvidence } from "./since.js";
export { parseTreeCheckpointLine, TREE_CHECKPOINT_KIND, type TreeCheckpointLine } from "./tree-line.js";
