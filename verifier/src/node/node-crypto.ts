/**
 * Synchronous node:crypto implementations of worker-core's LineCrypto for the CLI's worker threads:
 * same checks as the WebCrypto default (SHA-256; RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32),
 * without WebCrypto's per-call promise and job overhead. Keys are parsed once per serial. When the
 * optional native addon is built, entries take its one-call path (OpenSSL with a verify context
 * prepared once per key); everything else (checkpoints, payloads) stays on node:crypto.
 */
import { constants, createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import type { LineCrypto } from "../worker-core.js";
import { loadNative } from "./native.js";

/** RFC 9162 leaf hash prefix. */
const LEAF_PREFIX = new Uint8Array([0]);

export function nodeLineCrypto(opts: { native?: boolean } = {}): LineCrypto {
  const keys = new Map<string, KeyObject | null>();
  const keyFor = (spki: Uint8Array, serial: string): KeyObject | null => {
    let k = keys.get(serial);
    if (k === undefined) {
      try {
        k = createPublicKey({
          key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength),
          format: "der",
          type: "spki",
        });
        if (k.asymmetricKeyType !== "rsa" && k.asymmetricKeyType !== "rsa-pss") k = null;
      } catch {
        k = null;
      }
      keys.set(serial, k);
    }
    return k;
  };
  const base: LineCrypto = {
    name: "node:crypto",
    sha256Hex: (bytes) => createHash("sha256").update(bytes).digest("hex"),
    leafHash: (text) => {
      const d = createHash("sha256").update(LEAF_PREFIX).update(text, "utf8").digest();
      return new Uint8Array(d.buffer, d.byteOffset, d.byteLength) as ReturnType<NonNullable<LineCrypto["leafHash"]>>;
    },
    verifyPss(spki, serial, message, signature) {
      const key = keyFor(spki, serial);
      if (!key) return false;
      try {
        return verify("sha256", message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
      } catch {
        return false;
      }
    },
    clear: () => {
      keys.clear();
      prepared.clear();
    },
    decodeBase64: (b64) => {
      const b = Buffer.from(b64, "base64");
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength) as ReturnType<
        NonNullable<LineCrypto["decodeBase64"]>
      >;
    },
  };
  const prepared = new Map<string, object | null>();
  const native = opts.native === false ? undefined : loadNative();
  if (!native) return base;
  return {
    ...base,
    name: `${native.openssl} (native addon)`,
    verifyEntry(spki, serial, canonical, hashHex, sigB64, leafOut) {
      let key: object | null = null;
      if (spki) {
        let k = prepared.get(serial);
        if (k === undefined) {
          k = native.prepareKey(spki);
          prepared.set(serial, k);
        }
        key = k;
      }
      return native.verifyEntry(key, canonical, hashHex, sigB64, leafOut);
    },
  };
}
