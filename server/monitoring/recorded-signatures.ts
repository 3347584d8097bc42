/**
 * Kakunin's side of reconciliation: the KMS Sign calls it made itself, each known by the pair
 * (key ARN, KMS request id) and tied to what it signed. Today nothing stores the request id; the
 * step that wires monitoring stores it with each entry, certificate, CRL and checkpoint (never
 * exported) and implements this interface over the database.
 */
export interface SignatureRef {
  keyArn: string;
  /** The KMS request id (`x-amzn-RequestId`, CloudTrail's `requestID`). */
  requestId: string;
  /** When KMS saw the Sign (CloudTrail's `eventTime`, epoch ms): where to look for what it signed. */
  timeMs: number;
}

/** What a recorded signature produced. */
export interface RecordedSignature extends Omit<SignatureRef, "timeMs"> {
  /** `authority`: a CA or log key Sign (certificate, CRL or checkpoint) known by its request id only. */
  kind: "entry" | "certificate" | "crl" | "checkpoint" | "authority";
  /** The product's identity: entry seq, certificate serial, CRL number, checkpoint size. */
  ref: string;
  issuerId: string | undefined;
  agentId: string | undefined;
}

export interface RecordedSignatures {
  /** The recorded signatures among `refs`, by request id (a request id matches only with its own key ARN). */
  find(refs: readonly SignatureRef[]): Promise<Map<string, RecordedSignature>>;
}

/**
 * The interface over a Map: what a server without request-id storage can keep for the signatures
 * it made since it started, and what tests use. Bounded: the oldest are forgotten past `capacity`.
 */
export class InMemoryRecordedSignatures implements RecordedSignatures {
  private readonly byRequestId = new Map<string, RecordedSignature>();

  constructor(private readonly capacity = 1_000_000) {}

  record(signature: RecordedSignature): void {
    this.byRequestId.delete(signature.requestId);
    this.byRequestId.set(signature.requestId, signature);
    if (this.byRequestId.size > this.capacity) this.byRequestId.delete(this.byRequestId.keys().next().value!);
  }

  async find(refs: readonly SignatureRef[]): Promise<Map<string, RecordedSignature>> {
    const found = new Map<string, RecordedSignature>();
    for (const ref of refs) {
      const hit = this.byRequestId.get(ref.requestId);
      if (hit && hit.keyArn === ref.keyArn) found.set(ref.requestId, hit);
    }
    return found;
  }
}
