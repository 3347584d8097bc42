/**
 * Which KMS keys are Kakunin's, and whose: an agent's key (current or rotated out), the CA key,
 * the log signer's key. Reconciliation judges Sign calls on these keys only; another
 * application's keys in the same account are not Kakunin's business.
 */
export interface KeyOwner {
  role: "agent" | "ca" | "log" | "tlog";
  issuerId: string | undefined;
  agentId: string | undefined;
}

export interface KeyOwners {
  /** Owners of the given key ARNs; keys that are not Kakunin's are absent. */
  ownersOf(keyArns: readonly string[]): Promise<Map<string, KeyOwner>>;
  /** Every key ARN Kakunin owns (its accounts and regions tell the S3 reader where to look). */
  allKeyArns(): Promise<string[]>;
}

/** KeyOwners over a Map (tests, and a server that lists its keys at start). */
export class StaticKeyOwners implements KeyOwners {
  private readonly owners: Map<string, KeyOwner>;

  constructor(owners: Iterable<[string, KeyOwner]> = []) {
    this.owners = new Map(owners);
  }

  set(keyArn: string, owner: KeyOwner): void {
    this.owners.set(keyArn, owner);
  }

  async ownersOf(keyArns: readonly string[]): Promise<Map<string, KeyOwner>> {
    const found = new Map<string, KeyOwner>();
    for (const arn of keyArns) {
      const owner = this.owners.get(arn);
      if (owner) found.set(arn, owner);
    }
    return found;
  }

  async allKeyArns(): Promise<string[]> {
    return [...this.owners.keys()];
  }
}

/** Accounts and regions of key ARNs (`arn:aws:kms:<region>:<account>:key/<id>`). */
export function scopeOfKeys(keyArns: readonly string[]): { accounts: string[]; regions: string[] } {
  const accounts = new Set<string>();
  const regions = new Set<string>();
  for (const arn of keyArns) {
    const parts = arn.split(":");
    if (parts.length < 6 || parts[2] !== "kms") continue;
    regions.add(parts[3]!);
    accounts.add(parts[4]!);
  }
  return { accounts: [...accounts].sort(), regions: [...regions].sort() };
}
