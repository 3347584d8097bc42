/** Independent checks with the openssl CLI (test helper for the CA suites). */
import { spawnSync } from "node:child_process";

export interface OpensslResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function openssl(args: string[], input?: string | Uint8Array): OpensslResult {
  const r = spawnSync("openssl", args, { input, encoding: "utf8", timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `openssl x509 -text` of a PEM certificate. */
export function x509Text(pem: string): string {
  const r = openssl(["x509", "-noout", "-text"], pem);
  if (r.status !== 0) throw new Error(`openssl x509 failed: ${r.stderr}`);
  return r.stdout;
}

/** The lines after an extension heading, e.g. "X509v3 Basic Constraints: critical" → "CA:FALSE". */
export function extension(text: string, name: string): { critical: boolean; value: string } | undefined {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => l.trim().startsWith(`${name}:`));
  if (i < 0) return undefined;
  const critical = /critical\s*$/.test(lines[i]!);
  const value: string[] = [];
  for (let j = i + 1; j < lines.length; j++) {
    const l = lines[j]!;
    if (/^\s{12}X509v3 |^\s{12}[A-Z][A-Za-z ]+:\s*(critical)?\s*$|^\s{4}Signature Algorithm/.test(l)) break;
    value.push(l.trim());
  }
  return { critical, value: value.join("\n") };
}
