/**
 * `@kakunin/verifier/formats`: the wire formats, browser-safe (WebCrypto only, no Node APIs), in
 * one place for the server, the verifier and the portal. v1: the entry/checkpoint/receipt/export
 * types, RFC 8785 canonical form, SHA-256 and the hashes FORMATS.md defines, PEM, base64/hex,
 * CRLReason names. Log v2: RFC 9162 Merkle trees and proofs, C2SP signed notes,
 * tlog-cosignature/v1, tlog-checkpoint bodies, tlog-tiles paths/bundles and tlog-policy, with the
 * witness-quorum and split-view evaluations over them.
 */
export * from "./errors.js";
export * from "./wire.js";
export * from "./bytes.js";
export * from "./canonical.js";
export * from "./hash.js";
export * from "./pem.js";
export * from "./revocation.js";
export * from "./merkle.js";
export * from "./compact-range.js";
export * from "./proof-verify.js";
export * from "./proof-build.js";
export * from "./note.js";
export * from "./checkpoint.js";
export * from "./tiles.js";
export * from "./leaf.js";
export * from "./tlog-proof.js";
export * from "./cosignature.js";
export * from "./policy.js";
export * from "./date-time.js";
export * from "../trust/witness-quorum.js";
export * from "../trust/split-view.js";
