/**
 * Loads the optional native addon (native/kakunin_verify.c, built by `npm install` when a C
 * compiler is available). Absent or unloadable: undefined, and the CLI uses node:crypto instead.
 * KAKUNIN_VERIFY_NATIVE=off forces the fallback; KAKUNIN_VERIFY_NATIVE=<path> names the .node file.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The addon's exports. */
export interface NativeAddon {
  /** A prepared RSASSA-PSS verify context for an SPKI, or null if it is not a usable RSA key. */
  prepareKey(spki: Uint8Array): object | null;
  /**
   * Bit 0: SHA-256(UTF-8 of message) = hashHex; bit 1: the signature verifies under key; bit 2:
   * sigB64 is not strict base64; bit 3: `leafOut` holds the entry's RFC 9162 leaf hash (builds
   * before the leaf hash ignore `leafOut` and never set it).
   */
  verifyEntry(key: object | null, message: string, hashHex: string, sigB64: string, leafOut?: Uint8Array): number;
  /** out[0..32) = SHA-256(input); builds before it lack it (then undefined). */
  sha256Into?(input: Uint8Array, out: Uint8Array): void;
  /** The block path (native/kakunin_block.c; builds before it lack it): see node/native-block.ts. */
  keyTable?(keys: [string, Uint8Array][]): object;
  blockState?(): object;
  blockReset?(state: object): void;
  scanEntries?(
    table: object,
    state: object,
    block: Uint8Array,
    from: number,
    k: number,
    nums: Float64Array,
    flags: Uint8Array,
    refs: Uint32Array,
    hashes: Uint8Array,
    leaves: Uint8Array,
    strs: Uint32Array,
    ret: Float64Array,
  ): void;
  subtreeAdd?(state: object, seq: number, leaf: Uint8Array): number;
  subtreeReset?(state: object): void;
  /** OpenSSL version string of the library the addon runs against. */
  readonly openssl: string;
}

const RELATIVE = join("native", "build", "Release", "kakunin_verify.node");

function candidates(): string[] {
  const env = process.env.KAKUNIN_VERIFY_NATIVE;
  if (env === "off") return [];
  if (env) return [env];
  const out: string[] = [];
  // Set by bin/kakunin-verify.js: the bundled CLI runs from a cache directory, not the package.
  if (process.env.KAKUNIN_VERIFY_HOME) out.push(join(process.env.KAKUNIN_VERIFY_HOME, RELATIVE));
  out.push(fileURLToPath(new URL(`../../${RELATIVE}`, import.meta.url)));
  return out;
}

let loaded: NativeAddon | null | undefined;

/** The addon, or undefined (not built, wrong platform, disabled). Loaded once per thread. */
export function loadNative(): NativeAddon | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  loaded = null;
  const require = createRequire(import.meta.url);
  for (const path of candidates()) {
    if (!existsSync(path)) continue;
    try {
      const m = require(path) as NativeAddon;
      if (typeof m.prepareKey === "function" && typeof m.verifyEntry === "function") {
        loaded = m;
        break;
      }
    } catch {
      // Built for another Node ABI or platform: fall back.
    }
  }
  return loaded ?? undefined;
}
