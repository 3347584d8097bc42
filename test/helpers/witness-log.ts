/** The log side in witness tests: a Merkle tree built with the formats primitives and Ed25519-signed checkpoints. */
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import {
  buildProof,
  CompactRange,
  consistencyPlan,
  emptyRoot,
  formatCheckpoint,
  formatVerifierKey,
  hashLeaf,
  rootFromNodes,
  signNote,
  type NodeId,
  type NodeReader,
} from "../../verifier/src/formats/index.js";

/** A test log: append leaves, sign checkpoints at any size, build consistency proofs. */
export class TestLog {
  readonly #nodes = new Map<string, Uint8Array>();
  readonly #range = new CompactRange();
  readonly #key: ReturnType<typeof generateKeyPairSync>;
  readonly raw: Uint8Array;
  /** The signature line name: the origin, or the shared key's name for logs under a --log-prefix. */
  readonly keyName: string;
  readonly reader: NodeReader = {
    readNodes: async (ids: readonly NodeId[]) =>
      ids.map((id) => {
        const h = this.#nodes.get(`${id.level}/${id.index}`);
        if (!h) throw new Error(`missing node ${id.level}/${id.index}`);
        return h;
      }),
  };

  /**
   * @param opts.keyOf sign with another test log's key (an impostor uses none: a fresh key).
   * @param opts.fork leaves from this index on differ from an unforked log's (an equivocating log).
   * @param opts.nameAfterOrigin with keyOf: sign with that key but under this log's origin as key name.
   */
  constructor(
    readonly origin: string,
    opts: { keyOf?: TestLog; fork?: number; nameAfterOrigin?: boolean } = {},
  ) {
    this.#key = opts.keyOf ? opts.keyOf.#key : generateKeyPairSync("ed25519");
    this.raw = new Uint8Array(this.#key.publicKey.export({ format: "der", type: "spki" }).subarray(12));
    this.keyName = opts.keyOf && !opts.nameAfterOrigin ? opts.keyOf.keyName : origin;
    this.#fork = opts.fork ?? Infinity;
  }
  readonly #fork: number;

  get size(): number {
    return this.#range.size;
  }
  vkey(): Promise<string> {
    return formatVerifierKey(this.keyName, this.raw);
  }
  async grow(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      for (const node of await this.#range.append(
        await hashLeaf(
          new TextEncoder().encode(`${this.#range.size >= this.#fork ? "fork " : ""}entry ${this.#range.size}`),
        ),
      )) {
        this.#nodes.set(`${node.id.level}/${node.id.index}`, node.hash);
      }
    }
  }
  async root(size: number): Promise<Uint8Array> {
    return size === 0 ? emptyRoot() : rootFromNodes(size, this.reader);
  }
  /** The checkpoint text at `size` (≤ current size). */
  async text(size: number, root?: Uint8Array): Promise<string> {
    return formatCheckpoint({
      origin: this.origin,
      size,
      root: (root ?? (await this.root(size))) as never,
      extensions: [],
    });
  }
  /** A signed checkpoint note at `size`. */
  async checkpoint(size = this.size, root?: Uint8Array): Promise<string> {
    return signNote(
      await this.text(size, root),
      this.keyName,
      this.raw,
      async (m) => new Uint8Array(nodeSign(null, m, this.#key.privateKey)),
    );
  }
  async proof(from: number, to: number): Promise<Uint8Array[]> {
    return from === 0 || from === to ? [] : buildProof(consistencyPlan(from, to), this.reader);
  }
  /** An add-checkpoint body from `old` to `size`. */
  async body(old: number, size = this.size): Promise<string> {
    const proof = await this.proof(old, size);
    return `old ${old}\n${proof.map((h) => `${Buffer.from(h).toString("base64")}\n`).join("")}\n${await this.checkpoint(size)}`;
  }
}

/** POSTs an add-checkpoint body. */
export async function addCheckpoint(
  url: string,
  body: string,
): Promise<{ status: number; type: string; text: string }> {
  const r = await fetch(`${url}/add-checkpoint`, { method: "POST", body });
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() };
}
