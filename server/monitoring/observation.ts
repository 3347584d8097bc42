/**
 * What the server tells monitoring about each signing request, as it happens. Times are the
 * request's own (epoch ms), so detectors are deterministic: the same observations in the same
 * order always raise the same alerts.
 */
export type Observation = SignObservation | SignRefusedObservation | AuthFailureObservation | TokenIssuedObservation;

/** Kakunin made a signature for an agent (an entry was appended). */
export interface SignObservation {
  type: "sign";
  timeMs: number;
  issuerId: string;
  agentId: string;
  keyArn: string;
  /** Id of the bearer token used (issuer or agent token), never its value. */
  tokenId: string;
  /** The client's address as the server saw it. */
  sourceAddress: string;
  /** KMS request id of the Sign, when known. */
  requestId?: string;
}

/** A Sign request refused because the key or certificate is disabled or revoked (a 409). */
export interface SignRefusedObservation {
  type: "sign-refused";
  timeMs: number;
  issuerId: string;
  agentId: string;
  keyArn: string | undefined;
  tokenId: string | undefined;
  sourceAddress: string | undefined;
  /** The problem code answered, e.g. ERR_AGENT_REVOKED, ERR_KEY_STATE. */
  code: string;
}

/** A request against an agent's routes failed authentication (401) or authorisation (403). */
export interface AuthFailureObservation {
  type: "auth-failure";
  timeMs: number;
  issuerId: string | undefined;
  agentId: string;
  sourceAddress: string | undefined;
  /** ERR_UNAUTHORIZED, ERR_FORBIDDEN, … */
  code: string;
}

/** The issuer created a token for the agent: its first use is expected, not an anomaly. */
export interface TokenIssuedObservation {
  type: "token-issued";
  timeMs: number;
  agentId: string;
  tokenId: string;
}
