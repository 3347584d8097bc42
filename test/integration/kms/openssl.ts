import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** DER SubjectPublicKeyInfo (as GetPublicKey returns it) to PEM, the way openssl wants it. */
export function spkiDerToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n");
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`;
}

/**
 * Independent check: `openssl dgst -<hash> -verify pub.pem -signature sig.bin [-sigopt ...] msg`.
 * Resolves true on "Verified OK", false on a verification failure.
 */
export async function opensslVerify(opts: {
  publicKeyDer: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  hash?: "sha256" | "sha384" | "sha512";
  pssSaltLength?: number;
}): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), "kakunin-openssl-"));
  try {
    await writeFile(join(dir, "pub.pem"), spkiDerToPem(opts.publicKeyDer));
    await writeFile(join(dir, "sig.bin"), opts.signature);
    await writeFile(join(dir, "msg"), opts.message);
    const args = [`-${opts.hash ?? "sha256"}`, "-verify", "pub.pem", "-signature", "sig.bin"];
    if (opts.pssSaltLength !== undefined) {
      args.push("-sigopt", "rsa_padding_mode:pss", "-sigopt", `rsa_pss_saltlen:${opts.pssSaltLength}`);
    }
    args.push("msg");
    try {
      const { stdout } = await run("openssl", ["dgst", ...args], { cwd: dir });
      return stdout.includes("Verified OK");
    } catch (err) {
      const stdout = String((err as { stdout?: string }).stdout ?? "");
      if (stdout.includes("Verification failure")) return false;
      throw err;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
