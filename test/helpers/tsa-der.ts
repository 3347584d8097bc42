/**
 * A minimal DER walker for tamper tests: which field of a TimeStampToken a byte offset belongs to.
 * Independent of asn1js/pkijs on purpose (the code under test uses those).
 */
export interface DerNode {
  tag: number;
  /** Offset of the tag byte, of the first content byte, and one past the last content byte. */
  start: number;
  contentStart: number;
  end: number;
  children: DerNode[];
}

function readNode(b: Uint8Array, at: number): DerNode {
  const tag = b[at]!;
  if ((tag & 0x1f) === 0x1f) throw new Error("high tag numbers are not used in these structures");
  let len = b[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error(`unsupported length form at ${at}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
  }
  const node: DerNode = { tag, start: at, contentStart: p, end: p + len, children: [] };
  if (node.end > b.length) throw new Error(`length overruns at ${at}`);
  if (tag & 0x20) {
    let q = p;
    while (q < node.end) {
      const child = readNode(b, q);
      node.children.push(child);
      q = child.end;
    }
  }
  return node;
}

export function parseDerTree(b: Uint8Array): DerNode {
  const root = readNode(b, 0);
  if (root.end !== b.length) throw new Error("trailing bytes");
  return root;
}

const within = (n: DerNode, offset: number) => offset >= n.start && offset < n.end;

/** Named byte ranges [start, end) of the parts of a TimeStampToken (ContentInfo → SignedData → SignerInfo). */
export interface TokenLayout {
  signedDataVersion: DerNode;
  digestAlgorithms: DerNode;
  encapContentInfo: DerNode;
  certificates?: DerNode;
  signerInfo: DerNode;
  signerInfoVersion: DerNode;
  sid: DerNode;
  digestAlgorithm: DerNode;
  signedAttrs: DerNode;
  signatureAlgorithm: DerNode;
  signature: DerNode;
}

export function tokenLayout(token: Uint8Array): TokenLayout {
  const root = parseDerTree(token);
  const signedData = root.children[1]!.children[0]!;
  const sd = signedData.children;
  const signerInfos = sd[sd.length - 1]!;
  const si = signerInfos.children[0]!.children;
  const layout: TokenLayout = {
    signedDataVersion: sd[0]!,
    digestAlgorithms: sd[1]!,
    encapContentInfo: sd[2]!,
    signerInfo: signerInfos.children[0]!,
    signerInfoVersion: si[0]!,
    sid: si[1]!,
    digestAlgorithm: si[2]!,
    signedAttrs: si[3]!,
    signatureAlgorithm: si[4]!,
    signature: si[5]!,
  };
  const certs = sd.find((n) => n.tag === 0xa0);
  if (certs) layout.certificates = certs;
  return layout;
}

/** The certificate (within SignedData.certificates) that contains `offset`, by index, if any. */
export function certificateAt(layout: TokenLayout, offset: number): number | undefined {
  const i = layout.certificates?.children.findIndex((c) => within(c, offset)) ?? -1;
  return i === -1 ? undefined : i;
}

export function inNode(n: DerNode | undefined, offset: number): boolean {
  return n !== undefined && within(n, offset);
}

/** Content bytes of a node (e.g. an OID's value). */
export function contentOf(b: Uint8Array, n: DerNode): Uint8Array {
  return b.subarray(n.contentStart, n.end);
}
