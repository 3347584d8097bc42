/**
 * Ed25519ph (RFC 8032 §5.1, HashEdDSA: dom2(1, "") and PH = SHA-512), which Node 20's OpenSSL 3.0
 * does not offer. Written after the RFC's §6 illustration, with BigInt; it is the local KMS's
 * ED25519_PH_SHA_512, not production cryptography (not constant-time). Checked against RFC 8032
 * §7.3's vector (test/unit/kms/ed25519ph.test.ts).
 *
 * AWS KMS (API Sign, MessageType): "When you specify the ED25519_PH_SHA_512 signing algorithm with
 * MessageType:DIGEST, KMS still performs the SHA-512 prehash described in Step 1 of Section 7.8.1 in
 * FIPS 186-5. This means the input is hashed twice" — so the 64-byte digest sent is the message M.
 */
import { createHash, type KeyObject } from "node:crypto";

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint, m = P) => ((a % m) + m) % m;
function pow(b: bigint, e: bigint, m = P): bigint {
  let r = 1n;
  b = mod(b, m);
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}
const inv = (x: bigint) => pow(x, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** Extended coordinates (X, Y, Z, T): x = X/Z, y = Y/Z, xy = T/Z. */
type Point = readonly [bigint, bigint, bigint, bigint];
const IDENTITY: Point = [0n, 1n, 1n, 0n];

function add(p: Point, q: Point): Point {
  const a = mod((p[1] - p[0]) * (q[1] - q[0]));
  const b = mod((p[1] + p[0]) * (q[1] + q[0]));
  const c = mod(2n * p[3] * q[3] * D);
  const d = mod(2n * p[2] * q[2]);
  const [e, f, g, h] = [b - a, d - c, d + c, b + a];
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function mul(s: bigint, p: Point): Point {
  let q = IDENTITY;
  for (; s > 0n; s >>= 1n, p = add(p, p)) if (s & 1n) q = add(q, p);
  return q;
}

function equal(p: Point, q: Point): boolean {
  return mod(p[0] * q[2] - q[0] * p[2]) === 0n && mod(p[1] * q[2] - q[1] * p[2]) === 0n;
}

function recoverX(y: bigint, sign: bigint): bigint | undefined {
  if (y >= P) return undefined;
  const x2 = mod((y * y - 1n) * inv(D * y * y + 1n));
  if (x2 === 0n) return sign ? undefined : 0n;
  let x = pow(x2, (P + 3n) / 8n);
  if (mod(x * x - x2) !== 0n) x = mod(x * SQRT_M1);
  if (mod(x * x - x2) !== 0n) return undefined;
  return (x & 1n) !== sign ? P - x : x;
}

const G_Y = mod(4n * inv(5n));
const G: Point = (() => {
  const x = recoverX(G_Y, 0n)!;
  return [x, G_Y, 1n, mod(x * G_Y)];
})();

const le = (b: Uint8Array) => b.reduceRight((acc, v) => (acc << 8n) | BigInt(v), 0n);
function le32(n: bigint): Buffer {
  const out = Buffer.alloc(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

function compress(p: Point): Buffer {
  const zi = inv(p[2]);
  const x = mod(p[0] * zi);
  const y = mod(p[1] * zi);
  return le32(y | ((x & 1n) << 255n));
}

function decompress(b: Uint8Array): Point | undefined {
  if (b.length !== 32) return undefined;
  let y = le(b);
  const sign = y >> 255n;
  y &= (1n << 255n) - 1n;
  const x = recoverX(y, sign);
  return x === undefined ? undefined : [x, y, 1n, mod(x * y)];
}

/** dom2(phflag = 1, context = ""): the domain separator of Ed25519ph. */
const DOM2 = Buffer.concat([Buffer.from("SigEd25519 no Ed25519 collisions", "latin1"), Buffer.of(1, 0)]);
const sha512 = (...parts: Uint8Array[]) => {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return h.digest();
};
const sha512ModL = (...parts: Uint8Array[]) => mod(le(sha512(...parts)), L);

function secretOf(privateKey: KeyObject): { s: bigint; prefix: Buffer; a: Buffer } {
  const jwk = privateKey.export({ format: "jwk" });
  if (jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) throw new Error("not an Ed25519 private key");
  const h = sha512(Buffer.from(jwk.d, "base64url"));
  const head = Buffer.from(h.subarray(0, 32));
  head[0]! &= 248;
  head[31]! &= 127;
  head[31]! |= 64;
  return { s: le(head), prefix: h.subarray(32), a: Buffer.from(jwk.x, "base64url") };
}

/** Ed25519ph signature (64 bytes) of message `m` (hashed here with SHA-512: PH(M)). */
export function ed25519phSign(privateKey: KeyObject, m: Uint8Array): Buffer {
  const { s, prefix, a } = secretOf(privateKey);
  const ph = sha512(m);
  const r = sha512ModL(DOM2, prefix, ph);
  const R = compress(mul(r, G));
  const k = sha512ModL(DOM2, R, a, ph);
  return Buffer.concat([R, le32(mod(r + k * s, L))]);
}

/** Ed25519ph verification of `signature` over message `m` under the raw 32-byte public key `a`. */
export function ed25519phVerify(a: Uint8Array, m: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const A = decompress(a);
  const R = decompress(signature.subarray(0, 32));
  const S = le(signature.subarray(32));
  if (!A || !R || S >= L) return false;
  const k = sha512ModL(DOM2, signature.subarray(0, 32), a, sha512(m));
  return equal(mul(S, G), add(R, mul(k, A)));
}

/** The raw public key of an Ed25519 KeyObject (public or private). */
export function ed25519RawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: "jwk" });
  if (jwk.crv !== "Ed25519" || !jwk.x) throw new Error("not an Ed25519 key");
  return Buffer.from(jwk.x, "base64url");
}
