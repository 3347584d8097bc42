/**
 * A revocation with reason "unspecified", end to end over the real API (server process, local KMS
 * process, SQLite): the CRL it produces has no reasonCode for that entry AND no empty
 * crlEntryExtensions (an empty SEQUENCE violates RFC 5280's SIZE (1..MAX); pkijs, and so the
 * verifier, rejected the whole CRL), the verifier library reads it, and OpenSSL accepts it.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as asn1js from "asn1js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCrls } from "../../../verifier/src/checks/crl/index.js";
import { parseCertificatePem } from "../../../verifier/src/x509/certificate.js";
import { answer, apiClient, type ApiTarget } from "../../helpers/client.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";

let kms: LocalKms;
let server: RunningServer;
const api = (): ApiTarget => ({ url: server.url });

function openssl(args: string[]) {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The revokedCertificates entries of a DER CRL, each as the number of elements in its SEQUENCE and its raw bytes. */
function crlEntries(der: Uint8Array): { elements: number; hex: string }[] {
  const { result } = asn1js.fromBER(der.slice().buffer);
  const tbs = (result as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
  // version, signature, issuer, thisUpdate, nextUpdate, revokedCertificates, [0] crlExtensions
  const revoked = tbs.valueBlock.value.find(
    (v, i) => i > 3 && v instanceof asn1js.Sequence && v.idBlock.tagClass === 1,
  ) as asn1js.Sequence;
  return revoked.valueBlock.value.map((e) => ({
    elements: (e as asn1js.Sequence).valueBlock.value.length,
    hex: Buffer.from(e.toBER()).toString("hex"),
  }));
}

beforeAll(async () => {
  kms = await startLocalKms();
  server = await startServer({ kmsEndpoint: kms.endpoint });
});

afterAll(async () => {
  await server?.stop();
  await kms?.stop();
});

describe("a CRL revoking a certificate with reason unspecified", () => {
  it("carries the entry without extensions; the verifier and openssl read it", async () => {
    const iss = await answer(api(), server.operatorToken, (c) => c.createIssuer("Unspecified Ltd"));
    const issuerToken = iss.value!.token;
    const keep = (await answer(api(), issuerToken, (c) => c.createAgent("stays"))).value!;
    const gone = (await answer(api(), issuerToken, (c) => c.createAgent("goes"))).value!;
    const revoked = await answer(api(), issuerToken, (c) => c.revokeAgent(gone.id, "unspecified"));
    expect(revoked.status).toBe(200);

    const res = await fetch(`${server.url}/v1/public/crl`);
    expect(res.status).toBe(200);
    const der = new Uint8Array(await res.arrayBuffer());
    const caPem = (await answer(api(), undefined, (c) => c.caPem())).value!;
    const crlPem = await apiClient(api()).crlPem();

    // One entry, SEQUENCE { serial, revocationDate } — no third element, in particular no `30 00`.
    const entries = crlEntries(der);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.elements).toBe(2);
    expect(entries[0]!.hex.endsWith("3000")).toBe(false);

    // The verifier library (pkijs underneath) accepts the CRL and sees the revocation, without a reason.
    const ca = await parseCertificatePem(caPem);
    const loaded = await loadCrls([{ text: crlPem, field: "crl", source: "GET /v1/public/crl" }], ca, new Date());
    expect(loaded.problems).toEqual([]);
    expect([...loaded.crl!.revoked.keys()]).toEqual([gone.certificate.serial]);
    expect(loaded.crl!.revoked.get(gone.certificate.serial)!.reason).toBeUndefined();

    // OpenSSL reads the DER and checks both certificates against it.
    const dir = server.dataDir;
    writeFileSync(join(dir, "u-ca.pem"), caPem);
    writeFileSync(join(dir, "u-crl.der"), der);
    writeFileSync(join(dir, "u-crl.pem"), crlPem);
    writeFileSync(join(dir, "u-keep.pem"), keep.certificate.pem);
    writeFileSync(join(dir, "u-gone.pem"), gone.certificate.pem);
    const text = openssl(["crl", "-inform", "DER", "-in", join(dir, "u-crl.der"), "-noout", "-text"]);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`Serial Number: ${gone.certificate.serial.toUpperCase()}`);
    expect(text.out).not.toContain("CRL Reason Code");
    const verify = (cert: string) =>
      openssl([
        "verify",
        "-x509_strict",
        "-crl_check",
        "-CAfile",
        join(dir, "u-ca.pem"),
        "-CRLfile",
        join(dir, "u-crl.pem"),
        "-purpose",
        "any",
        join(dir, cert),
      ]);
    const ok = verify("u-keep.pem");
    expect(ok.out).toContain(": OK");
    expect(ok.code).toBe(0);
    const bad = verify("u-gone.pem");
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain("certificate revoked");
  });
});
