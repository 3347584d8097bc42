/**
 * Real pieces for kakunin-receipt/2 tests: an RFC 9162 tree over a real server's exported entries
 * (leaf data per FORMATS.md), its checkpoint signed with a real Ed25519 log key, cosigned by real
 * `kakunin-witness` processes over HTTP, and timestamped by the real dev TSA.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestCheckpointTimestamps } from "../../../server/log/timestamping/request-timestamps.js";
import {
  base64Encode,
  buildProof,
  CompactRange,
  entryLeafData,
  formatCheckpoint,
  formatTlogProof,
  hashLeaf,
  inclusionPlan,
  rootOfLeafHashes,
  type NodeId,
  type TlogCheckpoint,
} from "../../../verifier/src/formats/index.js";
import { startWitness, type WitnessProcess } from "../../helpers/witness.js";
import type { LogKey } from "../../helpers/witness-keys.js";

type Json = Record<string, any>;

/** A Merkle tree over entries (leaf i = the entry with seq i). */
export class EntryTree {
  readonly #nodes = new Map<string, Uint8Array>();
  readonly leaves: Uint8Array[] = [];
  private constructor() {}

  static async of(entries: Json[]): Promise<EntryTree> {
    const t = new EntryTree();
    const range = new CompactRange();
    for (const [i, e] of entries.entries()) {
      if (e.seq !== i) throw new Error(`entry ${i} has seq ${e.seq}`);
      const h = await hashLeaf(entryLeafData(e));
      t.leaves.push(h);
      for (const n of await range.append(h)) t.#nodes.set(`${n.id.level}/${n.id.index}`, n.hash);
    }
    return t;
  }

  get size(): number {
    return this.leaves.length;
  }

  async root(size = this.size): Promise<Uint8Array> {
    return rootOfLeafHashes(this.leaves.slice(0, size));
  }

  /** Inclusion proof of `index` in the tree of `size` (≤ this.size). */
  async proof(index: number, size = this.size): Promise<Uint8Array[]> {
    const sub = size === this.size ? this : await EntryTree.fromLeaves(this.leaves.slice(0, size));
    return buildProof(inclusionPlan(index, size), {
      readNodes: async (ids: readonly NodeId[]) => ids.map((id) => sub.#nodes.get(`${id.level}/${id.index}`)!),
    });
  }

  private static async fromLeaves(leaves: Uint8Array[]): Promise<EntryTree> {
    const t = new EntryTree();
    const range = new CompactRange();
    for (const h of leaves) {
      t.leaves.push(h);
      for (const n of await range.append(h)) t.#nodes.set(`${n.id.level}/${n.id.index}`, n.hash);
    }
    return t;
  }

  /** The checkpoint body at `size`. */
  async text(origin: string, size = this.size): Promise<string> {
    return formatCheckpoint({ origin, size, root: (await this.root(size)) as TlogCheckpoint["root"], extensions: [] });
  }
}

/** A witness process following `vkeys`, with its own key file and data dir. */
export async function witnessFor(name: string, vkeys: string[]): Promise<WitnessProcess> {
  const dir = await mkdtemp(join(tmpdir(), `receipt-v2-${name}-`));
  return startWitness([
    "--name",
    `${name}.example/witness`,
    "--key-file",
    join(dir, "key.pem"),
    "--data-dir",
    dir,
    ...vkeys.flatMap((k) => ["--log", k]),
  ]);
}

/** C2SP tlog-witness add-checkpoint from a fresh witness's view (old 0); returns its cosignature lines. */
export async function cosign(w: WitnessProcess, note: string): Promise<string> {
  const r = await fetch(`${w.url}/add-checkpoint`, { method: "POST", body: `old 0\n\n${note}` });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`witness ${w.url}: ${r.status} ${text}`);
  return text;
}

/** Tokens from the dev TSA over `text` (DER). */
export async function stamp(tsaUrl: string, trusted: readonly Uint8Array[], text: string): Promise<Uint8Array> {
  const [o] = await requestCheckpointTimestamps(text, { urls: [tsaUrl], trusted, timeoutMs: 30_000, attempts: 3 });
  if (o!.kind !== "token") throw new Error(`TSA: ${JSON.stringify(o)}`);
  return o!.token;
}

/** A kakunin-receipt/2 from a v1 receipt, an inclusion proof, a checkpoint note and tokens. */
export function receiptV2(
  v1: Json,
  index: number,
  proof: Uint8Array[],
  note: string,
  tokens: readonly Uint8Array[] = [],
): Json {
  const r: Json = {
    ...v1,
    format: "kakunin-receipt/2",
    proof: formatTlogProof({ index, proof: proof as never, checkpoint: note }),
  };
  if (tokens.length) r.timestamps = tokens.map((t) => base64Encode(t as never));
  return r;
}

/** A log key's signed note of `text`, with witness cosignature lines appended. */
export async function signedNote(key: LogKey, text: string, cosignatures = ""): Promise<string> {
  return (await key.signNote(text)) + cosignatures;
}
