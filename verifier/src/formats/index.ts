/**
 * `@kakunin/verifier/formats`: browser-safe log v2 primitives — RFC 9162 Merkle trees and proofs,
 * C2SP signed notes, tlog-cosignature/v1, tlog-checkpoint bodies and tlog-tiles paths/bundles. WebCrypto only.
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
