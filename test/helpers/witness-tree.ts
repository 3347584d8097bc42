/**
 * A log for witnessing tests: a real RFC 9162 Merkle tree (formats CompactRange + stored nodes) whose
 * checkpoints are signed with a WebCrypto Ed25519 key. A fork shares the key and origin but its leaves
 * differ from index `forkAt` on — an equivocating log.
 */
import {
  buildProof,
  CompactRange,
  consistencyPlan,
  emptyRoot,
  formatCheckpoint,
  hashLeaf,
  rootFromNodes,
  type NodeId,
  type NodeReader,
} from "../../verifier/src/formats/index.js";
import { logKey, type LogKey } from "./witness-keys.js";

export class MerkleTestLog {
  readonly #nodes = new Map<string, Uint8Array>();
  readonly #range = new CompactRange();
  readonly #forkAt: number;
  readonly reader: NodeReader = {
    readNodes: async (ids: readonly NodeId[]) =>
      ids.map((id) => {
        const h = this.#nodes.get(`${id.level}/${id.index}`);
        if (!h) throw new Error(`missing node ${id.level}/${id.index}`);
        return h;
      }),
  };

  private constructor(
    readonly key: LogKey,
    forkAt: number,
  ) {
    this.#forkAt = forkAt;
  }

  /** A new log with a fresh key named after `origin`. */
  static async create(origin: string): Promise<MerkleTestLog> {
    return new MerkleTestLog(await logKey(origin), Infinity);
  }

  /** Another history of this log (same key and origin), diverging at leaf `forkAt`. */
  fork(forkAt: number): MerkleTestLog {
    return new MerkleTestLog(this.key, forkAt);
  }

  get origin(): string {
    return this.key.name;
  }
  get vkey(): string {
    return this.key.vkey;
  }
  get size(): number {
    return this.#range.size;
  }

  async grow(n: number): Promise<this> {
    for (let i = 0; i < n; i++) {
      const index = this.#range.size;
      const leaf = await hashLeaf(new TextEncoder().encode(`${index >= this.#forkAt ? "forked" : "entry"} ${index}`));
      for (const node of await this.#range.append(leaf))
        this.#nodes.set(`${node.id.level}/${node.id.index}`, node.hash);
    }
    return this;
  }

  async root(size = this.size): Promise<Uint8Array> {
    return size === 0 ? emptyRoot() : rootFromNodes(size, this.reader);
  }

  async text(size = this.size): Promise<string> {
    return formatCheckpoint({ origin: this.origin, size, root: (await this.root(size)) as never, extensions: [] });
  }

  /** The signed checkpoint note at `size` (default: the current size). */
  async checkpoint(size = this.size): Promise<string> {
    return this.key.signNote(await this.text(size));
  }

  /** What the witnessing client asks for: the consistency proof of this tree from `from` to `to`. */
  readonly proofs = async (from: number, to: number): Promise<Uint8Array[]> =>
    buildProof(consistencyPlan(from, to), this.reader);
}
