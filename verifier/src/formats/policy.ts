/**
 * C2SP tlog-policy (c2sp.org/tlog-policy): the trust policy file that pins log verifier keys,
 * witness (cosigner) verifier keys and the quorum of cosignatures a checkpoint needs.
 *
 * Supported key types: Ed25519 log keys (signed-note type 0x01) and Ed25519 cosigner keys
 * (tlog-cosignature type 0x04). Any other type is an error naming the line, not silently a
 * witness that can never cosign.
 */
import { VerificationError, type ErrorLocation } from "../errors.js";
import { bytesEqual } from "./bytes.js";
import { parseVerifierKey, type NoteVerifierKey } from "./note.js";
import { parseCosignerVerifierKey } from "./cosignature.js";

/** A policy file that is not C2SP tlog-policy. `line` is 1-based; `field` names the item. */
export class PolicyError extends VerificationError {
  constructor(message: string, where?: ErrorLocation) {
    super("ERR_POLICY", message, where);
  }
}

/** A `log <vkey> [<url>]` line. The key's name is the log's origin. */
export interface PolicyLog {
  vkey: string;
  key: NoteVerifierKey;
  url?: string;
  line: number;
}

/** A `witness <name> <vkey> [<url>]` line; `name` is local to the policy, `key.name` is the cosigner's key name. */
export interface PolicyWitness {
  name: string;
  vkey: string;
  key: NoteVerifierKey;
  url?: string;
  line: number;
}

/** The quorum rule: nothing, one witness, or a group that needs `threshold` of its members. */
export type QuorumRule =
  | { kind: "none" }
  | { kind: "witness"; name: string }
  | { kind: "group"; name: string; threshold: number; members: QuorumRule[] };

/** A `group <name> all|any|<k> <member>...` line, resolved. */
export type PolicyGroup = Extract<QuorumRule, { kind: "group" }> & { line: number };

/** A parsed policy. Lists keep the file's order. */
export interface TrustPolicy {
  logs: PolicyLog[];
  witnesses: PolicyWitness[];
  groups: PolicyGroup[];
  quorum: QuorumRule;
}

/** The predefined name of the empty quorum. */
export const QUORUM_NONE = "none";
/** Limits well above the spec's recommended minimum of 32 each, so a policy cannot cost unbounded work. */
export const MAX_POLICY_ENTRIES = 256;

const TAB = 0x09;
const LF = 0x0a;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The spec's octet rule: tab, newline, 0x20–0x7E and 0x80–0xFF only. */
function checkOctets(bytes: Uint8Array, line: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === TAB || (b >= 0x20 && b !== 0x7f)) continue;
    const what =
      b === 0x0d
        ? "a carriage return (CRLF line endings are not allowed)"
        : `control character 0x${b.toString(16).padStart(2, "0")}`;
    throw new PolicyError(`policy line ${line} (line): ${what} at column ${i + 1}`, { line, field: "line" });
  }
}

function splitLines(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === LF) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  // A final line without its newline is accepted (the spec terminates lines; being lenient here is harmless).
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

/** Builds the policy line by line; each method throws PolicyError naming the line and field. */
class PolicyBuilder {
  readonly logs: PolicyLog[] = [];
  readonly witnesses: PolicyWitness[] = [];
  readonly groups: PolicyGroup[] = [];
  quorum: { rule: QuorumRule; line: number } | undefined;
  /** Witness and group names (one namespace), with the rule each stands for. */
  readonly #names = new Map<string, { rule: QuorumRule; line: number }>();
  /** Names already listed as a group member, and the line that listed them. */
  readonly #members = new Map<string, number>();
  #line = 0;

  at(line: number): void {
    this.#line = line;
  }

  #fail(field: string, message: string): never {
    throw new PolicyError(`policy line ${this.#line} (${field}): ${message}`, { line: this.#line, field });
  }

  #limit(count: number, what: string): void {
    if (count >= MAX_POLICY_ENTRIES) this.#fail(what, `more than ${MAX_POLICY_ENTRIES} ${what} lines`);
  }

  #newName(name: string, field: string): void {
    if (name === QUORUM_NONE) this.#fail(field, `"${QUORUM_NONE}" is predefined and cannot be redefined`);
    const prev = this.#names.get(name);
    if (prev) this.#fail(field, `name "${name}" is already defined on line ${prev.line}`);
  }

  async #key(
    vkey: string,
    field: string,
    parse: (v: string) => Promise<NoteVerifierKey>,
    kind: string,
  ): Promise<NoteVerifierKey> {
    try {
      return await parse(vkey);
    } catch (e) {
      return this.#fail(field, `${kind} verifier key ${JSON.stringify(vkey)}: ${(e as Error).message}`);
    }
  }

  async log(args: string[]): Promise<void> {
    if (args.length < 1 || args.length > 2)
      this.#fail("log", `expected "log <vkey> [<url>]", got ${args.length} values`);
    this.#limit(this.logs.length, "log");
    const [vkey, url] = args as [string, string | undefined];
    const key = await this.#key(vkey, "log.vkey", parseVerifierKey, "log (Ed25519, type 0x01)");
    const dup = this.logs.find((l) => bytesEqual(l.key.publicKey, key.publicKey));
    if (dup) this.#fail("log.vkey", `the log key is a duplicate of line ${dup.line} (same public key)`);
    this.logs.push({ vkey, key, line: this.#line, ...(url === undefined ? {} : { url }) });
  }

  async witness(args: string[]): Promise<void> {
    if (args.length < 2 || args.length > 3)
      this.#fail("witness", `expected "witness <name> <vkey> [<url>]", got ${args.length} values`);
    this.#limit(this.witnesses.length, "witness");
    const [name, vkey, url] = args as [string, string, string | undefined];
    this.#newName(name, "witness.name");
    const key = await this.#key(
      vkey,
      "witness.vkey",
      parseCosignerVerifierKey,
      "witness (Ed25519 cosignature/v1, type 0x04)",
    );
    const dup = this.witnesses.find((w) => bytesEqual(w.key.publicKey, key.publicKey));
    if (dup)
      this.#fail(
        "witness.vkey",
        `witness "${name}" has the same public key as witness "${dup.name}" on line ${dup.line}`,
      );
    this.witnesses.push({ name, vkey, key, line: this.#line, ...(url === undefined ? {} : { url }) });
    this.#names.set(name, { rule: { kind: "witness", name }, line: this.#line });
  }

  group(args: string[]): void {
    if (args.length < 3)
      this.#fail("group", 'expected "group <name> all|any|<k> <member>..." with at least one member');
    this.#limit(this.groups.length, "group");
    const [name, k, ...memberNames] = args as [string, string, ...string[]];
    this.#newName(name, "group.name");
    const n = memberNames.length;
    let threshold: number;
    if (k === "all") threshold = n;
    else if (k === "any") threshold = 1;
    else if (/^[0-9]+$/.test(k) && Number(k) >= 1 && Number(k) <= n) threshold = Number(k);
    else
      this.#fail(
        "group.threshold",
        `group "${name}": threshold must be "all", "any" or a decimal k with 1 <= k <= ${n}, got "${k}"`,
      );
    const members: QuorumRule[] = [];
    for (const m of memberNames) {
      if (m === QUORUM_NONE) this.#fail("group.member", `group "${name}": "${QUORUM_NONE}" cannot be a group member`);
      const def = this.#names.get(m);
      if (!def)
        this.#fail(
          "group.member",
          `group "${name}": member "${m}" is not a witness or group defined on an earlier line`,
        );
      const listed = this.#members.get(m);
      if (listed !== undefined)
        this.#fail(
          "group.member",
          `group "${name}": "${m}" is already listed as a group member on line ${listed} (each name may be a member once)`,
        );
      this.#members.set(m, this.#line);
      members.push(def.rule);
    }
    const rule = { kind: "group" as const, name, threshold, members };
    this.groups.push({ ...rule, line: this.#line });
    this.#names.set(name, { rule, line: this.#line });
  }

  setQuorum(args: string[]): void {
    if (args.length !== 1) this.#fail("quorum", `expected "quorum <name>", got ${args.length} values`);
    if (this.quorum) this.#fail("quorum", `a second quorum line (the first is line ${this.quorum.line})`);
    const name = args[0]!;
    if (name === QUORUM_NONE) {
      this.quorum = { rule: { kind: "none" }, line: this.#line };
      return;
    }
    const def = this.#names.get(name);
    if (!def) this.#fail("quorum", `quorum "${name}" is not a witness or group defined on an earlier line`);
    this.quorum = { rule: def.rule, line: this.#line };
  }
}

/**
 * Parses a tlog-policy file. Input is the file's octets (or text, taken as its UTF-8 encoding).
 * Whitespace is spaces and tabs; blank lines and lines starting with '#' are skipped. Item lines
 * must be UTF-8 (non-UTF-8 octets are accepted in comments only). Throws PolicyError naming the
 * line and field on any deviation.
 */
export async function parsePolicy(input: string | Uint8Array): Promise<TrustPolicy> {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const b = new PolicyBuilder();
  const lines = splitLines(bytes);
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    b.at(line);
    checkOctets(raw, line);
    let start = 0;
    while (start < raw.length && (raw[start] === 0x20 || raw[start] === TAB)) start++;
    if (start === raw.length || raw[start] === 0x23 /* # */) continue;
    let text: string;
    try {
      text = decoder.decode(raw);
    } catch {
      throw new PolicyError(
        `policy line ${line} (line): not valid UTF-8 (non-UTF-8 octets are accepted in comments only)`,
        { line, field: "line" },
      );
    }
    const [keyword, ...args] = text.split(/[ \t]+/).filter((t) => t !== "");
    switch (keyword) {
      case "log":
        await b.log(args);
        break;
      case "witness":
        await b.witness(args);
        break;
      case "group":
        b.group(args);
        break;
      case "quorum":
        b.setQuorum(args);
        break;
      default:
        throw new PolicyError(
          `policy line ${line} (keyword): unknown keyword "${keyword}" (expected log, witness, group or quorum)`,
          { line, field: "keyword" },
        );
    }
  }
  if (!b.quorum)
    throw new PolicyError(
      `policy line ${lines.length} (quorum): the policy has no quorum line (use "quorum ${QUORUM_NONE}" to require no cosignatures)`,
      { line: lines.length, field: "quorum" },
    );
  return { logs: b.logs, witnesses: b.witnesses, groups: b.groups, quorum: b.quorum.rule };
}

/** The log keys a policy pins for `origin` (tlog-policy: the vkey's name is the origin). */
export function policyLogKeys(policy: TrustPolicy, origin: string): NoteVerifierKey[] {
  return policy.logs.filter((l) => l.key.name === origin).map((l) => l.key);
}
