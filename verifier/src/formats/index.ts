/**
 * `@kakunin/verifier/formats`: browser-safe log v2 primitives — RFC 9162 Merkle trees and proofs,
 * C2SP signed notes, tlog-cosignature/v1, tlog-checkpoint bodies, tlog-tiles paths/bundles and tlog-policy,
 * with the witness-quorum and split-view evaluations over them. WebCrypto only.
 */
export * from "./errors.js";
export * from "./merkle.js";
export * from "./proof-verify.js";
export * from "./proof-build.js";
export * from "./note.js";
export * from "./checkpoint.js";
export * from "./tiles.js";
export * from "./leaf.js";
export * from "./tlog-proof.js";
export * from "./cosignature.js";
export * from "./policy.js";
export * from "../trust/witness-quorum.js";
export * from "../trust/split-view.js";
