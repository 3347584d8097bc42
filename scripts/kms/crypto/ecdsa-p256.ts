import { randomBytes, type KeyObject } from "node:crypto";

/**
 * ECDSA on NIST P-256 over a pre-computed digest (KMS MessageType DIGEST).
 * Node's crypto has no prehash ECDSA API, so this is textbook ECDSA (SEC 1 §4.1) with bigint
 * arithmetic in Jacobian coordinates and a fresh random nonce per signature (KMS signatures
 * are randomised too). Not constant-time: acceptable for a local/test KMS, not for production HSMs.
 * RAW messages use Node's native ECDSA instead (see sign.ts).
 */

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;

type Jacobian = { x: bigint; y: bigint; z: bigint };
const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n };

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

function invert(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new Error("not invertible");
  return mod(oldS, m);
}

function double(p: Jacobian): Jacobian {
  if (p.z === 0n || p.y === 0n) return INFINITY;
  // dbl-2001-b for a = -3
  const delta = mod(p.z * p.z, P);
  const gamma = mod(p.y * p.y, P);
  const beta = mod(p.x * gamma, P);
  const alpha = mod(3n * (p.x - delta) * (p.x + delta), P);
  const x = mod(alpha * alpha - 8n * beta, P);
  const z = mod((p.y + p.z) ** 2n - gamma - delta, P);
  const y = mod(alpha * (4n * beta - x) - 8n * gamma * gamma, P);
  return { x, y, z };
}

function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p.z === 0n) return q;
  if (q.z === 0n) return p;
  const z1z1 = mod(p.z * p.z, P);
  const z2z2 = mod(q.z * q.z, P);
  const u1 = mod(p.x * z2z2, P);
  const u2 = mod(q.x * z1z1, P);
  const s1 = mod(p.y * q.z * z2z2, P);
  const s2 = mod(q.y * p.z * z1z1, P);
  if (u1 === u2) return s1 === s2 ? double(p) : INFINITY;
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  const hh = mod(h * h, P);
  const hhh = mod(h * hh, P);
  const v = mod(u1 * hh, P);
  const x = mod(r * r - hhh - 2n * v, P);
  const y = mod(r * (v - x) - s1 * hhh, P);
  const z = mod(h * p.z * q.z, P);
  return { x, y, z };
}

function multiply(point: Jacobian, scalar: bigint): Jacobian {
  let result = INFINITY;
  for (let i = BigInt(scalar.toString(2).length - 1); i >= 0n; i--) {
    result = double(result);
    if ((scalar >> i) & 1n) result = add(result, point);
  }
  return result;
}

function affineX(p: Jacobian): bigint {
  const zInv = invert(p.z, P);
  return mod(p.x * zInv * zInv, P);
}

const bytesToBigint = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt("0x" + Buffer.from(b).toString("hex")));
const b64urlToBigint = (s: string) => bytesToBigint(Buffer.from(s, "base64url"));

/** The digest as an integer, truncated to the bit length of N (a no-op for SHA-256). */
function digestToInt(digest: Buffer): bigint {
  const e = bytesToBigint(digest);
  const excess = digest.length * 8 - 256;
  return excess > 0 ? e >> BigInt(excess) : e;
}

function randomScalar(): bigint {
  for (;;) {
    const k = bytesToBigint(randomBytes(32));
    if (k > 0n && k < N) return k;
  }
}

// --- DER encoding of ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } ---

function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  let bytes = Buffer.from(hex, "hex");
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function encodeSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]); // body < 128 bytes for P-256
}

/** Strict DER parse; returns undefined for anything malformed (signature is attacker-controlled). */
function decodeSignature(sig: Buffer): { r: bigint; s: bigint } | undefined {
  if (sig.length < 8 || sig[0] !== 0x30 || sig[1] !== sig.length - 2) return undefined;
  const ints: bigint[] = [];
  let pos = 2;
  for (let i = 0; i < 2; i++) {
    if (sig[pos] !== 0x02) return undefined;
    const len = sig[pos + 1];
    if (len === undefined || len === 0 || len > 33 || pos + 2 + len > sig.length) return undefined;
    const bytes = sig.subarray(pos + 2, pos + 2 + len);
    if (bytes[0]! & 0x80) return undefined; // negative
    if (len > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) return undefined; // non-minimal
    ints.push(bytesToBigint(bytes));
    pos += 2 + len;
  }
  if (pos !== sig.length) return undefined;
  return { r: ints[0]!, s: ints[1]! };
}

export function ecdsaP256SignDigest(privateKey: KeyObject, digest: Buffer): Buffer {
  const jwk = privateKey.export({ format: "jwk" });
  if (jwk.crv !== "P-256" || !jwk.d) throw new Error("not a P-256 private key");
  const d = b64urlToBigint(jwk.d);
  const e = digestToInt(digest);
  for (;;) {
    const k = randomScalar();
    const r = mod(affineX(multiply({ x: GX, y: GY, z: 1n }, k)), N);
    if (r === 0n) continue;
    const s = mod(invert(k, N) * (e + r * d), N);
    if (s === 0n) continue;
    return encodeSignature(r, s);
  }
}

export function ecdsaP256VerifyDigest(publicKey: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.crv !== "P-256" || !jwk.x || !jwk.y) throw new Error("not a P-256 public key");
  const parsed = decodeSignature(signature);
  if (!parsed) return false;
  const { r, s } = parsed;
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const w = invert(s, N);
  const u1 = mod(digestToInt(digest) * w, N);
  const u2 = mod(r * w, N);
  const q: Jacobian = { x: b64urlToBigint(jwk.x), y: b64urlToBigint(jwk.y), z: 1n };
  const point = add(multiply({ x: GX, y: GY, z: 1n }, u1), multiply(q, u2));
  if (point.z === 0n) return false;
  return mod(affineX(point), N) === r;
}
