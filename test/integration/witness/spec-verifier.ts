/**
 * A cosignature verifier written from c2sp.org/tlog-cosignature alone (node:crypto, no project code), so
 * the witness's output is checked by something that does not share its implementation.
 */
import { createHash, createPublicKey, verify } from "node:crypto";

/** Verifies one `— <name> base64(id ‖ u64 ts ‖ sig)` line over checkpoint text; returns its timestamp. */
export function verifyCosignatureLineFromSpec(checkpointText: string, line: string, vkey: string): number {
  const [name, hexId, b64] = [
    vkey.slice(0, vkey.indexOf("+")),
    vkey.split("+")[1]!,
    vkey.slice(vkey.indexOf("+", vkey.indexOf("+") + 1) + 1),
  ];
  const material = Buffer.from(b64, "base64");
  if (material[0] !== 0x04 || material.length !== 33) throw new Error("not an Ed25519 cosigner vkey");
  const pub = material.subarray(1);
  const id = createHash("sha256")
    .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([0x04]), pub]))
    .digest()
    .subarray(0, 4);
  if (id.toString("hex") !== hexId) throw new Error("vkey ID mismatch");
  const m = /^\u2014 (\S+) (\S+)\n$/.exec(line);
  if (!m || m[1] !== name) throw new Error(`not a signature line of ${name}: ${JSON.stringify(line)}`);
  const raw = Buffer.from(m[2]!, "base64");
  if (raw.length !== 76 || !raw.subarray(0, 4).equals(id)) throw new Error("wrong length or key ID");
  const ts = raw.readBigUInt64BE(4);
  const message = Buffer.from(`cosignature/v1\ntime ${ts}\n${checkpointText}`);
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: pub.toString("base64url") }, format: "jwk" });
  if (!verify(null, message, key, raw.subarray(12))) throw new Error("cosignature does not verify");
  return Number(ts);
}
