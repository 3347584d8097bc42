/** Shared benchmark helpers: percentiles, tables, openssl speed. */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { cpus } from "node:os";
import { ZERO_HASH } from "../../verifier/src/formats/hash.js";
import type { CertificateLine, ExportHeaderLine } from "../../verifier/src/formats/wire.js";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(cells[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** `openssl speed -seconds N [-multi M] rsa2048` → RSA-2048 signs/s. */
export function opensslRsaSignRate(seconds: number, multi = 1): number {
  const args = ["speed", "-seconds", String(seconds), ...(multi > 1 ? ["-multi", String(multi)] : []), "rsa2048"];
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  const out = `${r.stdout}\n${r.stderr}`;
  // single:  "rsa 2048 bits 0.000620s 0.000018s   1612.9  55555.6"
  // multi:   "+F2:2:2048:0.000310:0.000009" (sign s, verify s)
  const m = /^rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/m.exec(out);
  if (m) return Number(m[1]);
  const f = /^\+F2:\d+:2048:([\d.]+):/m.exec(out);
  if (f) return 1 / Number(f[1]);
  throw new Error(`could not parse openssl speed output:\n${out}`);
}

export const cores = cpus().length;
export const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "-");

/** PIDs whose command line contains `needle` (and whose environment contains `envNeedle`, if given). Linux /proc; empty elsewhere. */
export function pidsByCmdline(needle: string, envNeedle?: string): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const d of entries) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, "utf8").includes(needle)) continue;
      if (envNeedle !== undefined && !readFileSync(`/proc/${d}/environ`, "utf8").includes(envNeedle)) continue;
      out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** A signer made by the verifier's PKI test fixtures (test/unit/verifier/fixtures/pki.ts), as export lines need it. */
export interface FixtureSigner {
  serial: string;
  pem: string;
  role: "agent" | "log";
  agent: string | null;
  keyArn: string;
  cert: { notBefore: Date; notAfter: Date };
}

/** The `header` line of a generated `kakunin-log/1` export of entries 0 … n − 1, without payloads. */
export function exportHeaderLine(issuer: string, n: number, caPem: string): string {
  const header: ExportHeaderLine = {
    kind: "header",
    format: "kakunin-log/1",
    issuer,
    exportedAt: new Date().toISOString(),
    range: { from: 0, to: n - 1 },
    prevHash: ZERO_HASH,
    caCertificate: caPem,
    payloads: false,
  };
  return JSON.stringify(header);
}

/** A `certificate` line for a fixture signer: active and enabled unless `extra` says otherwise. */
export function certificateLine(s: FixtureSigner, extra: Partial<CertificateLine> = {}): string {
  const line: CertificateLine = {
    kind: "certificate",
    serial: s.serial,
    pem: s.pem,
    role: s.role,
    agent: s.agent,
    status: "active",
    notBefore: s.cert.notBefore.toISOString(),
    notAfter: s.cert.notAfter.toISOString(),
    keyArn: s.keyArn,
    keyState: "Enabled",
    disabledAt: null,
    supersededAt: null,
    revokedAt: null,
    revocationReason: null,
    ...extra,
  };
  return JSON.stringify(line);
}
