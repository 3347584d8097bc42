/** The logs a witness follows: exact origins (a vkey's name) and origin prefixes, each with its keys. */
import { ed25519KeyId, parseVerifierKey, type NoteVerifierKey } from "../../verifier/src/formats/index.js";
import { ConfigError, type LogEntry } from "./config.js";

/** Resolves an origin to the log keys trusted for it. */
export class TrustedLogs {
  private constructor(
    readonly exact: ReadonlyMap<string, { vkey: string; key: NoteVerifierKey }[]>,
    readonly prefixes: readonly { prefix: string; vkey: string; key: NoteVerifierKey }[],
  ) {}

  /** Parses every configured verifier key; a bad one is a ConfigError naming it. */
  static async from(entries: readonly LogEntry[]): Promise<TrustedLogs> {
    const exact = new Map<string, { vkey: string; key: NoteVerifierKey }[]>();
    const prefixes: { prefix: string; vkey: string; key: NoteVerifierKey }[] = [];
    for (const e of entries) {
      let key: NoteVerifierKey;
      try {
        key = await parseVerifierKey(e.vkey);
      } catch (err) {
        throw new ConfigError(`log verifier key "${e.vkey}": ${(err as Error).message}`);
      }
      if (e.originPrefix !== undefined) prefixes.push({ prefix: e.originPrefix, vkey: e.vkey, key });
      else exact.set(key.name, [...(exact.get(key.name) ?? []), { vkey: e.vkey, key }]);
    }
    return new TrustedLogs(exact, prefixes);
  }

  /**
   * Keys trusted for this origin; empty means the origin is unknown. A prefix's key is trusted under its
   * own name and, with the same public key, under the origin's name: tlog-checkpoint has logs name their
   * key after the origin, so a deployment signing every issuer's log with one key uses one name per log.
   */
  async keysFor(origin: string): Promise<NoteVerifierKey[]> {
    const prefixed = this.prefixes.filter((p) => origin.startsWith(p.prefix));
    const asOrigin = await Promise.all(
      prefixed.map(async (p) => ({
        name: origin,
        keyId: await ed25519KeyId(origin, p.key.publicKey),
        publicKey: p.key.publicKey,
      })),
    );
    const all = [...(this.exact.get(origin) ?? []).map((e) => e.key), ...prefixed.map((p) => p.key), ...asOrigin];
    // One key configured twice (e.g. by --log and --log-prefix) must not look ambiguous to openNote.
    return all.filter((k, i) => all.findIndex((o) => o.name === k.name && o.keyId === k.keyId) === i);
  }
}
