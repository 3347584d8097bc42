/**
 * `--online`: fetch the current CRL from the certificates' CRL distribution points. Explicit only
 * (offline is the default). What is fetched is revocation data like any other: it counts only if
 * the pinned CA signed it, and the newest valid CRL decides (checks/crl).
 */
import { crlDistributionPoints } from "../x509/crl-dp.js";
import type { CrlArg } from "../checks/crl/index.js";

/** Every fetch has a deadline; a CRL is small. */
const TIMEOUT_MS = 10_000;
const MAX_BYTES = 4 << 20;

/** Fetches each distinct CRL URL named by the certificates; failures become messages, not exceptions. */
export async function fetchCrls(certPems: readonly string[]): Promise<{ crls: CrlArg[]; notes: string[] }> {
  const urls = [...new Set(certPems.flatMap((p) => crlDistributionPoints(p)))];
  const crls: CrlArg[] = [];
  const notes: string[] = [];
  if (urls.length === 0) notes.push("--online: no certificate names a CRL distribution point");
  for (const url of urls) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.length > MAX_BYTES) throw new Error("response too large");
      const text = new TextDecoder("latin1").decode(body);
      crls.push({
        pem: text.includes("-----BEGIN") ? text : Buffer.from(body).toString("base64"),
        source: `--online ${url} (fetched ${new Date().toISOString()})`,
      });
    } catch (e) {
      notes.push(`--online: could not fetch ${url}: ${(e as Error).message}`);
    }
  }
  return { crls, notes };
}
