/** What happened with one witness for one checkpoint. Never an exception: outages are outcomes. */

interface Common {
  /** The endpoint's local name. */
  witness: string;
  vkey: string;
  url: string;
  /** The old size of the last request sent (after a 409, the witness's size). */
  oldSize: number;
  /** A 409 was answered by resending from the witness's size. */
  resynced: boolean;
  /** Wall time of the whole exchange, ms. */
  ms: number;
  /** Reading or writing the cosigned-size state failed (the exchange went on without it). */
  stateError?: string;
}

export type WitnessOutcome = Common &
  /** 200 with a cosignature line of the pinned key that verified. */
  (
    | { kind: "cosigned"; lines: string[]; timestamp: number }
    /** Any status but 200 (a 409 that could not be resolved included); `detail` is the witness's, shortened. */
    | { kind: "refused"; status: number; detail: string }
    /** 200, but no verifying cosignature by the pinned key (or a malformed or oversized body). */
    | { kind: "invalid-response"; status: number; detail: string }
    /** The per-call deadline (or the caller's signal) fired first. */
    | { kind: "timed-out"; detail: string }
    /** No HTTP answer: connection refused or reset, DNS, TLS. */
    | { kind: "unreachable"; detail: string }
    /** The log itself could not build the consistency proof the request needs. */
    | { kind: "log-error"; detail: string }
  );

export type WitnessOutcomeKind = WitnessOutcome["kind"];
