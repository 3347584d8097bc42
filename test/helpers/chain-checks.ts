/**
 * Checks of exported chains that do not trust the verifier under test: NDJSON parsed here, hashes
 * and links recomputed here (RFC 8785 via npm `canonicalize`), signatures checked with the openssl
 * CLI. Used by the log, scale and verifier suites.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import canonicalize from "canonicalize";

/** Parse a `kakunin-log/1` NDJSON export into its kinds of lines. */
export function parseExport(text: string) {
  const lines = text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
  return {
    lines,
    header: lines[0],
    certificates: lines.filter((l) => l.kind === "certificate"),
    crl: lines.find((l) => l.kind === "crl"),
    entries: lines.filter((l) => l.kind === "entry").map((l) => l.entry),
    payloads: lines.filter((l) => l.kind === "payload"),
    checkpoint: lines.find((l) => l.kind === "checkpoint")?.checkpoint,
  };
}

/** RFC 8785 bytes. */
export function jcs(value: unknown): Buffer {
  return Buffer.from(canonicalize(value)!, "utf8");
}

export function withoutHashSig(e: Record<string, unknown>): Record<string, unknown> {
  const { hash: _h, sig: _s, ...rest } = e;
  return rest;
}

/** Recompute hashes and links independently; returns problems (empty = the chain links). */
export function chainProblems(entries: any[], from = 0, prev = "0".repeat(64)): string[] {
  const problems: string[] = [];
  entries.forEach((e, i) => {
    if (e.seq !== from + i) problems.push(`seq ${e.seq} at position ${i} (expected ${from + i})`);
    if (e.prevHash !== prev) problems.push(`seq ${e.seq}: prevHash does not link`);
    const h = createHash("sha256")
      .update(jcs(withoutHashSig(e)))
      .digest("hex");
    if (h !== e.hash) problems.push(`seq ${e.seq}: hash mismatch`);
    prev = e.hash;
  });
  return problems;
}

/**
 * Verify signatures with the openssl CLI over each object's RFC 8785 bytes (without hash/sig for
 * entries, without sig for checkpoints), using the public key extracted from the signer's
 * certificate (`openssl x509 -pubkey`). Returns the seqs/indices that did NOT verify.
 */
export function opensslVerifyAll(
  objects: { id: string | number; jcs: Buffer; sig: string; certPem: string }[],
): (string | number)[] {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-log-openssl-"));
  try {
    const pubs = new Map<string, string>();
    let script = "set -u\n";
    objects.forEach((o, i) => {
      let pub = pubs.get(o.certPem);
      if (!pub) {
        pub = `pub${pubs.size}.pem`;
        writeFileSync(join(dir, `cert${pubs.size}.pem`), o.certPem);
        execFileSync("openssl", ["x509", "-pubkey", "-noout", "-in", `cert${pubs.size}.pem`, "-out", pub], {
          cwd: dir,
        });
        pubs.set(o.certPem, pub);
      }
      writeFileSync(join(dir, `m${i}.jcs`), o.jcs);
      writeFileSync(join(dir, `s${i}.bin`), Buffer.from(o.sig, "base64"));
      script += `openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify ${pub} -signature s${i}.bin m${i}.jcs >/dev/null 2>&1 && echo "OK ${i}" || echo "BAD ${i}"\n`;
    });
    writeFileSync(join(dir, "run.sh"), script);
    const r = spawnSync("sh", ["run.sh"], { cwd: dir, encoding: "utf8", maxBuffer: 64 << 20 });
    const ok = new Set(
      r.stdout
        .split("\n")
        .filter((l) => l.startsWith("OK "))
        .map((l) => Number(l.slice(3))),
    );
    return objects.filter((_, i) => !ok.has(i)).map((o) => o.id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** openssl-verify every entry of a parsed export against the certificate its signer names. */
export function opensslVerifyExport(exp: ReturnType<typeof parseExport>): (string | number)[] {
  const pemBySerial = new Map<string, string>(exp.certificates.map((c: any) => [c.serial, c.pem]));
  const objs = exp.entries.map((e: any) => ({
    id: e.seq,
    jcs: jcs(withoutHashSig(e)),
    sig: e.sig,
    certPem: pemBySerial.get(e.signer.cert) ?? "",
  }));
  if (exp.checkpoint) {
    const { sig, ...rest } = exp.checkpoint;
    objs.push({ id: "checkpoint", jcs: jcs(rest), sig, certPem: pemBySerial.get(exp.checkpoint.signer.cert) ?? "" });
  }
  return opensslVerifyAll(objs);
}
