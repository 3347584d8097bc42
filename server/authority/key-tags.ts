/**
 * KMS tags on agent keys. They say whose key it is (agent, issuer) and, for a key made by a
 * rotation, which one: a rotation that crashed after CreateKey finds its key again by this tag.
 */

/** Tag naming the agent a key belongs to. */
export const AGENT_TAG = "kakunin:agent";
/** Tag naming the issuer of the agent a key belongs to. */
export const ISSUER_TAG = "kakunin:issuer";
/** Tag naming the rotation that created a key. */
export const ROTATION_TAG = "kakunin:rotation";
