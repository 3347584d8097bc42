/**
 * The directory embedded in the page at build time, and the optional load-time refresh.
 *
 * Trust is pinned: the trust anchor is always the CA fingerprint/PEM fixed at build time. A refresh
 * (only when the portal was built with the API's URL) may bring newer certificate statuses and a
 * newer CRL, never a different CA: a refreshed directory naming another CA is ignored.
 * The refresh happens when the page loads; verification itself never touches the network.
 */
import { normaliseDirectory, type Directory } from "../directory";
import type { TrustMaterial } from "@kakunin/verifier";
import { parsePolicy, parseVerifierKey } from "@kakunin/verifier/formats";
import { parseTsaBundle } from "@kakunin/verifier/timestamp";

interface Embedded {
  directory: Directory;
  apiUrl: string;
  /** Log v2 trust pinned at build time (site/README.md "Build"). */
  trust?: { policy: string | null; logKeys: string[]; tsa: string | null };
  builtAt: string;
}

let embedded: Embedded | undefined;
let current: Directory | undefined;
let refresh: Promise<Directory> | undefined;

function load(): Embedded {
  if (embedded) return embedded;
  const el = document.getElementById("kakunin-data");
  try {
    embedded = JSON.parse(el?.textContent ?? "{}") as Embedded;
  } catch {
    embedded = { directory: normaliseDirectory({}, "example"), apiUrl: "", builtAt: "" };
  }
  embedded.directory ??= normaliseDirectory({}, "example");
  return embedded;
}

/** The build-time (pinned) directory. */
export function pinned(): Directory {
  return load().directory;
}

/** The freshest directory available now (the refreshed one once the load-time refresh finished). */
export function directory(): Directory {
  return current ?? load().directory;
}

/** Resolves once the load-time refresh (if any) has settled; never rejects. */
export function ready(): Promise<Directory> {
  return refresh ?? Promise.resolve(directory());
}

export type Trust = { caCertificate: string } | { caFingerprint: string };

/** The pinned trust anchor, or undefined when the portal was built without one. */
export function trustAnchor(): Trust | undefined {
  const ca = pinned().ca;
  if (ca?.pem) return { caCertificate: ca.pem };
  if (ca?.fingerprint) return { caFingerprint: ca.fingerprint };
  return undefined;
}

/** CRLs known to the portal (the freshest directory's), labelled with where they came from. */
export function crls(): { pem: string; source: string }[] {
  const dir = directory();
  const crl = dir.crl;
  return crl?.pem
    ? [{ pem: crl.pem, source: `the portal's directory${dir.generatedAt ? ` (as of ${dir.generatedAt})` : ""}` }]
    : [];
}

function fmt(iso: string | null | undefined): string {
  if (!iso) return "unknown";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC");
}

function setFreshness(text: string, warn = false): void {
  const el = document.getElementById("freshness");
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("warn-text", warn);
}

function crlNote(dir: Directory): string {
  const next = dir.crl?.nextUpdate;
  if (next && Date.parse(next) < Date.now())
    return ` The revocation list was due for renewal on ${fmt(next)}: later revocations may be missing.`;
  return "";
}

/** Starts the load-time refresh (if built with an API URL) and keeps the footer's freshness line true. */
export function initFreshness(): void {
  const { apiUrl } = load();
  const pin = pinned();
  if (!apiUrl) {
    if (pin.generatedAt)
      setFreshness(
        `Directory and revocation list as of ${fmt(pin.generatedAt)}, fixed when this portal was built.${crlNote(pin)}`,
        !!crlNote(pin),
      );
    return;
  }
  setFreshness(`Directory as of ${fmt(pin.generatedAt)} (build time); checking ${apiUrl} for newer data…`);
  refresh = (async () => {
    try {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 8000);
      const res = await fetch(`${apiUrl}/v1/public/directory`, {
        signal: ctl.signal,
        credentials: "omit",
        cache: "no-store",
      });
      clearTimeout(timer);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const fresh = normaliseDirectory(await res.json(), "api");
      if (pin.ca?.fingerprint && fresh.ca?.fingerprint && fresh.ca.fingerprint !== pin.ca.fingerprint) {
        setFreshness(
          `The API at ${apiUrl} now names a different CA than the one pinned in this portal; its data was ignored. Directory as of ${fmt(pin.generatedAt)} (build time).`,
          true,
        );
        return pin;
      }
      current = fresh;
      setFreshness(
        `Directory and revocation list refreshed from ${apiUrl} at ${fmt(new Date().toISOString())} (data as of ${fmt(fresh.generatedAt ?? new Date().toISOString())}).${crlNote(fresh)}`,
        !!crlNote(fresh),
      );
      document.dispatchEvent(new CustomEvent("kakunin:directory", { detail: fresh }));
      return fresh;
    } catch {
      setFreshness(
        `Could not reach ${apiUrl} to refresh; using the directory and revocation list as of ${fmt(pin.generatedAt)} (build time).${crlNote(pin)}`,
        true,
      );
      return pin;
    }
  })();
}

/** What the portal was built to pin beyond the CA: log keys, a witness policy, a TSA list (for display). */
export function pinnedLogTrust(): { policy: boolean; logKeys: number; tsa: boolean } {
  const t = load().trust;
  return { policy: !!t?.policy, logKeys: t?.logKeys.length ?? 0, tsa: !!t?.tsa };
}

/**
 * The whole trust material for a receipt, from build-time data only (never from the refresh): the
 * same objects `kakunin-verify receipt --policy --log-key --tsa` builds from the same files. A
 * build-time file that does not parse throws (the page says so) rather than silently pinning less.
 */
export async function trustMaterial(ca: Trust): Promise<TrustMaterial> {
  const t = load().trust;
  const m: TrustMaterial = { ca };
  if (t?.logKeys.length) m.logKeys = await Promise.all(t.logKeys.map((k) => parseVerifierKey(k)));
  if (t?.policy) m.policy = await parsePolicy(t.policy);
  if (t?.tsa) m.tsa = parseTsaBundle(t.tsa, "the portal's TSA trust list");
  return m;
}
