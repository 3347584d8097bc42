/**
 * The CA against the real local KMS process, checked independently with the openssl CLI.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetPublicKeyCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { CA_KEY_ALIAS, KeyCustody, LOG_KEY_ALIAS, type SigningAlgorithm } from "../../../server/kms/custody.js";
import {
  CertificateAuthority,
  certificateInfo,
  fingerprintSha256,
  type IssuedCertificate,
} from "../../../server/ca/authority.js";
import { extension, openssl, x509Text } from "./openssl.js";

const TRUST_DOMAIN = "kakunin.test";
const CRL_URL = "http://127.0.0.1:8080/v1/public/crl";
const DAY = 86_400_000;

let kms: LocalKms;
let client: KMSClient;
let custody: KeyCustody;
let dir: string;
let caArn: string;
let root: IssuedCertificate;
let ca: CertificateAuthority;
let logArn: string;
let logCert: IssuedCertificate;
const agents: { id: string; arn: string; spki: Uint8Array; cert: IssuedCertificate }[] = [];

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function kmsSpki(arn: string): Promise<Uint8Array> {
  const out = await client.send(new GetPublicKeyCommand({ KeyId: arn }));
  return new Uint8Array(out.PublicKey!);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return "resolved";
}

async function listKeyArns(): Promise<string[]> {
  const out = await client.send(new ListKeysCommand({ Limit: 1000 }));
  return (out.Keys ?? []).map((k) => k.KeyArn!);
}

async function newAgent(id: string, issuerName = "Acme Agents Ltd"): Promise<(typeof agents)[number]> {
  const { arn } = await custody.createSigningKey({
    purpose: "agent",
    tags: { "kakunin:agent": id, "kakunin:issuer": "iss_test" },
    description: `Kakunin agent ${id}`,
  });
  const spki = await custody.getPublicKey(arn);
  const cert = await ca.issueAgentCertificate({ agentId: id, issuerName, publicKey: spki, keyArn: arn });
  return { id, arn, spki, cert };
}

beforeAll(async () => {
  kms = await startLocalKms();
  client = kms.client();
  custody = new KeyCustody(client, { region: kms.region, allowedRegions: ["eu-west-1", "eu-central-1"] });
  dir = mkdtempSync(join(tmpdir(), "kakunin-ca-"));
  caArn = (await custody.createSigningKey({ purpose: "ca", tags: {}, description: "Kakunin CA", alias: CA_KEY_ALIAS }))
    .arn;
  root = await CertificateAuthority.createRoot(custody, caArn, {});
  ca = new CertificateAuthority(
    custody,
    { keyArn: caArn, certificateDer: root.der },
    { trustDomain: TRUST_DOMAIN, crlUrl: CRL_URL, agentValidityDays: 365 },
  );
  logArn = (
    await custody.createSigningKey({
      purpose: "log",
      tags: {},
      description: "Kakunin log signer",
      alias: LOG_KEY_ALIAS,
    })
  ).arn;
  logCert = await ca.issueLogSignerCertificate({ publicKey: await custody.getPublicKey(logArn), keyArn: logArn });
  for (const id of ["agt_alpha", "agt_bravo", "agt_charlie", "agt_delta"]) agents.push(await newAgent(id));
  file("ca.pem", ca.certificatePem);
});

afterAll(async () => {
  await kms?.stop();
});

describe("KMS custody", () => {
  it("creates RSA_2048 SIGN_VERIFY keys with tags, a description and a least-privilege policy", async () => {
    const a = agents[0]!;
    const meta = (await client.send(new DescribeKeyCommand({ KeyId: a.arn }))).KeyMetadata!;
    expect(meta.KeySpec).toBe("RSA_2048");
    expect(meta.KeyUsage).toBe("SIGN_VERIFY");
    expect(meta.Description).toBe(`Kakunin agent ${a.id}`);
    const tags = Object.fromEntries(
      ((await client.send(new ListResourceTagsCommand({ KeyId: a.arn }))).Tags ?? []).map((t) => [
        t.TagKey,
        t.TagValue,
      ]),
    );
    expect(tags).toEqual({ "kakunin:purpose": "agent", "kakunin:agent": a.id, "kakunin:issuer": "iss_test" });

    const policy = JSON.parse(
      (await client.send(new GetKeyPolicyCommand({ KeyId: a.arn, PolicyName: "default" }))).Policy!,
    );
    const role = "arn:aws:iam::111122223333:role/kakunin-service";
    const stmts = policy.Statement as { Effect: string; Principal: { AWS: string }; Action: string[] }[];
    const roleAllow = stmts.filter((s) => s.Effect === "Allow" && s.Principal.AWS === role);
    expect(roleAllow.flatMap((s) => s.Action).sort()).toEqual([
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:GetPublicKey",
      "kms:Sign",
    ]);
    const roleDeny = stmts.filter((s) => s.Effect === "Deny" && s.Principal.AWS === role).flatMap((s) => s.Action);
    expect(roleDeny).toEqual(expect.arrayContaining(["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"]));
    const rootAllow = stmts
      .filter((s) => s.Effect === "Allow" && s.Principal.AWS === "arn:aws:iam::111122223333:root")
      .flatMap((s) => s.Action);
    expect(rootAllow.length).toBeGreaterThan(0);
    // Administration, not use, and never deletion.
    for (const forbidden of ["kms:*", "kms:Sign", "kms:ScheduleKeyDeletion", "kms:Schedule*"])
      expect(rootAllow).not.toContain(forbidden);
  });

  it("gives the first key (created before the account id was known) the same policy; honours a configured service role", async () => {
    const caPolicy = JSON.parse(
      (await client.send(new GetKeyPolicyCommand({ KeyId: caArn, PolicyName: "default" }))).Policy!,
    );
    const caRoleActions = (caPolicy.Statement as { Effect: string; Principal: { AWS: string }; Action: string[] }[])
      .filter((s) => s.Effect === "Allow" && s.Principal.AWS === "arn:aws:iam::111122223333:role/kakunin-service")
      .flatMap((s) => s.Action);
    expect(caRoleActions.sort()).toEqual(["kms:DescribeKey", "kms:DisableKey", "kms:GetPublicKey", "kms:Sign"]);

    const role = "arn:aws:iam::111122223333:role/custom-kakunin";
    const withRole = new KeyCustody(client, {
      region: kms.region,
      allowedRegions: ["eu-west-1"],
      serviceRoleArn: role,
    });
    const { arn } = await withRole.createSigningKey({
      purpose: "agent",
      tags: { "kakunin:agent": "agt_role", "kakunin:issuer": "iss_test" },
      description: "role test",
    });
    const policy = JSON.parse(
      (await client.send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: "default" }))).Policy!,
    );
    const principals = new Set((policy.Statement as { Principal: { AWS: string } }[]).map((s) => s.Principal.AWS));
    expect(principals).toEqual(new Set(["arn:aws:iam::111122223333:root", role]));
  });

  it("resolves aliases and tags; an alias race keeps the existing key and disables the loser", async () => {
    expect(await custody.findKeyByAlias(CA_KEY_ALIAS)).toBe(caArn);
    expect(await custody.findKeyByAlias(LOG_KEY_ALIAS)).toBe(logArn);
    expect(await custody.findKeyByAlias("alias/kakunin/nope")).toBeUndefined();
    expect(await custody.findKeysByTag("kakunin:agent", "agt_bravo")).toEqual([agents[1]!.arn]);
    expect(await custody.findKeysByTag("kakunin:agent", "agt_nobody")).toEqual([]);

    const before = new Set(await listKeyArns());
    const again = await custody.createSigningKey({
      purpose: "ca",
      tags: {},
      description: "Kakunin CA",
      alias: CA_KEY_ALIAS,
    });
    expect(again.arn).toBe(caArn);
    const extra = (await listKeyArns()).filter((a) => !before.has(a));
    expect(extra).toHaveLength(1);
    expect(await custody.describeKey(extra[0]!)).toMatchObject({ enabled: false, state: "Disabled" });
    expect(await custody.describeKey(caArn)).toMatchObject({ arn: caArn, enabled: true, state: "Enabled" });
  });

  it("refuses regions outside the allow-list and creates nothing", async () => {
    const before = (await listKeyArns()).length;
    const wrongRegion = new KeyCustody(client, { region: "us-east-1", allowedRegions: ["eu-west-1"] });
    expect(await codeOf(wrongRegion.createSigningKey({ purpose: "agent", tags: {}, description: "x" }))).toBe(
      "ERR_REGION_NOT_ALLOWED",
    );
    // The configured region is allowed but the client actually points elsewhere.
    const usClient = kms.client({ region: "us-east-1" });
    const mismatched = new KeyCustody(usClient, { region: "eu-west-1", allowedRegions: ["eu-west-1"] });
    expect(await codeOf(mismatched.createSigningKey({ purpose: "agent", tags: {}, description: "x" }))).toBe(
      "ERR_REGION_NOT_ALLOWED",
    );
    expect((await listKeyArns()).length).toBe(before);
  });

  it("signs digests only (32 bytes) and maps a missing key to ERR_KMS_NOT_FOUND", async () => {
    await expect(custody.signDigest(agents[0]!.arn, new Uint8Array(31), "RSASSA_PSS_SHA_256")).rejects.toThrow();
    const missing = caArn.replace(/key\/.*/, "key/00000000-0000-0000-0000-000000000000");
    expect(await codeOf(custody.getPublicKey(missing))).toBe("ERR_KMS_NOT_FOUND");
    const sig = await custody.signDigest(
      agents[0]!.arn,
      new Uint8Array(32).fill(7),
      "RSASSA_PSS_SHA_256" satisfies SigningAlgorithm,
    );
    expect(sig.length).toBe(256);
  });
});

describe("CA certificate", () => {
  it("is a self-signed v3 CA: CA:TRUE pathlen:0 (critical), keyCertSign+cRLSign (critical), SKI, 10 years", () => {
    const text = x509Text(root.pem);
    expect(text).toContain("Version: 3 (0x2)");
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/Subject: CN = Kakunin Root CA, O = Kakunin/);
    expect(text).toMatch(/Issuer: CN = Kakunin Root CA, O = Kakunin/);
    expect(extension(text, "X509v3 Basic Constraints")).toEqual({ critical: true, value: "CA:TRUE, pathlen:0" });
    expect(extension(text, "X509v3 Key Usage")).toEqual({ critical: true, value: "Certificate Sign, CRL Sign" });
    expect(extension(text, "X509v3 Subject Key Identifier")?.value).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    const days = (root.notAfter.getTime() - root.notBefore.getTime()) / DAY;
    expect(days).toBe(3650);
    expect(openssl(["verify", "-x509_strict", "-CAfile", join(dir, "ca.pem"), join(dir, "ca.pem")]).status).toBe(0);
    expect(ca.certificatePem).toBe(root.pem);
    expect(ca.fingerprintSha256).toBe(fingerprintSha256(root.der));
    const fp = openssl(["x509", "-noout", "-fingerprint", "-sha256"], root.pem).stdout;
    expect(fp.split("=")[1]!.trim().replace(/:/g, "").toLowerCase()).toBe(ca.fingerprintSha256);
  });

  it("certifies exactly the public key KMS holds for the CA key", async () => {
    expect(Buffer.from(certificateInfo(root.der).spki).equals(Buffer.from(await kmsSpki(caArn)))).toBe(true);
  });
});

describe("agent and log signer certificates", () => {
  it("follow the agent profile (openssl x509 -text)", () => {
    for (const a of agents) {
      const text = x509Text(a.cert.pem);
      expect(text).toContain("Version: 3 (0x2)");
      expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
      expect(text).toContain(`Subject: CN = ${a.id}, O = Acme Agents Ltd`);
      expect(text).toContain("Issuer: CN = Kakunin Root CA, O = Kakunin");
      expect(extension(text, "X509v3 Basic Constraints")).toEqual({ critical: true, value: "CA:FALSE" });
      expect(extension(text, "X509v3 Key Usage")).toEqual({ critical: true, value: "Digital Signature" });
      expect(extension(text, "X509v3 Extended Key Usage")?.value).toBe("1.3.6.1.5.5.7.3.36");
      expect(extension(text, "X509v3 Subject Alternative Name")?.value).toBe(
        `URI:spiffe://${TRUST_DOMAIN}/agent/${a.id}`,
      );
      expect(extension(text, "X509v3 Subject Key Identifier")?.value).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
      expect(extension(text, "X509v3 Authority Key Identifier")?.value.replace(/^keyid:/, "")).toBe(
        ca.keyId.toUpperCase().match(/../g)!.join(":"),
      );
      expect(extension(text, "X509v3 CRL Distribution Points")?.value).toContain(`URI:${CRL_URL}`);
      expect((a.cert.notAfter.getTime() - a.cert.notBefore.getTime()) / DAY).toBe(365);
    }
  });

  it("certify exactly the public key KMS GetPublicKey returned", async () => {
    for (const a of agents) {
      const fromKms = await kmsSpki(a.arn);
      expect(Buffer.from(certificateInfo(a.cert.der).spki).equals(Buffer.from(fromKms))).toBe(true);
      // and independently: the key openssl extracts from the certificate
      const pub = openssl(["x509", "-noout", "-pubkey"], a.cert.pem).stdout;
      const der = createPublicKey(pub).export({ format: "der", type: "spki" });
      expect(Buffer.from(der).equals(Buffer.from(fromKms))).toBe(true);
    }
    expect(Buffer.from(certificateInfo(logCert.der).spki).equals(Buffer.from(await kmsSpki(logArn)))).toBe(true);
  });

  it("have unique, positive, 16-byte random serials", async () => {
    const more = await Promise.all(
      [0, 1, 2, 3].map(() =>
        ca.issueAgentCertificate({ agentId: "agt_serials", issuerName: "Acme", publicKey: agents[0]!.spki }),
      ),
    );
    const certs = [root, logCert, ...agents.map((a) => a.cert), ...more];
    const serials = certs.map((c) => c.serial);
    expect(new Set(serials).size).toBe(serials.length);
    for (const c of certs) {
      expect(c.serial).toMatch(/^[0-7][0-9a-f]{31}$/); // 16 bytes, high bit clear → positive
      expect(c.serial).not.toMatch(/^00/);
      const shown = openssl(["x509", "-noout", "-serial"], c.pem).stdout.trim();
      expect(shown).toBe(`serial=${c.serial.toUpperCase()}`);
      expect(certificateInfo(c.der).serial).toBe(c.serial);
    }
  });

  it("the log signer certificate follows its profile", () => {
    const text = x509Text(logCert.pem);
    expect(text).toContain("Subject: CN = Kakunin log signer, O = Kakunin");
    expect(extension(text, "X509v3 Basic Constraints")).toEqual({ critical: true, value: "CA:FALSE" });
    expect(extension(text, "X509v3 Key Usage")).toEqual({ critical: true, value: "Digital Signature" });
    expect(extension(text, "X509v3 Extended Key Usage")?.value).toBe("1.3.6.1.5.5.7.3.36");
    expect(extension(text, "X509v3 Subject Alternative Name")?.value).toBe(`URI:spiffe://${TRUST_DOMAIN}/log`);
    expect((logCert.notAfter.getTime() - logCert.notBefore.getTime()) / DAY).toBe(5 * 365);
  });

  it("never outlive the CA certificate", async () => {
    const longCa = new CertificateAuthority(
      custody,
      { keyArn: caArn, certificateDer: root.der },
      { trustDomain: TRUST_DOMAIN, crlUrl: CRL_URL, agentValidityDays: 20_000, logSignerValidityDays: 20_000 },
    );
    const c = await longCa.issueAgentCertificate({
      agentId: "agt_long",
      issuerName: "Acme",
      publicKey: agents[0]!.spki,
    });
    expect(c.notAfter.getTime()).toBe(root.notAfter.getTime());
    const l = await longCa.issueLogSignerCertificate({ publicKey: await custody.getPublicKey(logArn) });
    expect(l.notAfter.getTime()).toBe(root.notAfter.getTime());
    // and nothing before the CA exists or after it expires
    expect(
      await codeOf(
        ca.issueAgentCertificate({
          agentId: "agt_late",
          issuerName: "Acme",
          publicKey: agents[0]!.spki,
          notBefore: new Date(root.notAfter.getTime() + DAY),
        }),
      ),
    ).toBe("ERR_CA_EXPIRED");
  });

  it("refuses bad input with typed errors", async () => {
    const spki = agents[0]!.spki;
    expect(await codeOf(ca.issueAgentCertificate({ agentId: "agt/../x", issuerName: "Acme", publicKey: spki }))).toBe(
      "ERR_VALIDATION",
    );
    expect(await codeOf(ca.issueAgentCertificate({ agentId: "", issuerName: "Acme", publicKey: spki }))).toBe(
      "ERR_VALIDATION",
    );
    expect(await codeOf(ca.issueAgentCertificate({ agentId: "agt_x", issuerName: "", publicKey: spki }))).toBe(
      "ERR_VALIDATION",
    );
    expect(
      await codeOf(
        ca.issueAgentCertificate({ agentId: "agt_x", issuerName: "Acme", publicKey: new Uint8Array([1, 2, 3]) }),
      ),
    ).toBe("ERR_VALIDATION");
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "der", type: "spki" });
    expect(
      await codeOf(
        ca.issueAgentCertificate({ agentId: "agt_x", issuerName: "Acme", publicKey: new Uint8Array(small) }),
      ),
    ).toBe("ERR_VALIDATION");
    expect(
      await codeOf(
        ca.issueAgentCertificate({ agentId: "agt_x", issuerName: "Acme", publicKey: certificateInfo(root.der).spki }),
      ),
    ).toBe("ERR_VALIDATION");
    // the SPKI must be the given KMS key's
    expect(
      await codeOf(
        ca.issueAgentCertificate({ agentId: "agt_x", issuerName: "Acme", publicKey: spki, keyArn: agents[1]!.arn }),
      ),
    ).toBe("ERR_PUBLIC_KEY_MISMATCH");
  });

  it("escapes issuer names instead of parsing them", async () => {
    const a = await newAgent("agt_escape", "Evil, O=Kakunin + CN=root");
    const info = certificateInfo(a.cert.der);
    expect(info.subject).toContain("agt_escape");
    const subj = openssl(["x509", "-noout", "-subject", "-nameopt", "RFC2253"], a.cert.pem).stdout.trim();
    // one O RDN holding the whole name (`,` and `+` escaped), one CN
    expect(subj).toBe("subject=O=Evil\\, O=Kakunin \\+ CN=root,CN=agt_escape");
    expect(
      openssl(["verify", "-x509_strict", "-CAfile", join(dir, "ca.pem"), file("escape.pem", a.cert.pem)]).status,
    ).toBe(0);
  });
});

describe("CRL and openssl verify", () => {
  let crl1: { der: Uint8Array; pem: string };
  let crl2: { der: Uint8Array; pem: string };
  const thisUpdate = new Date();
  const nextUpdate = new Date(thisUpdate.getTime() + 7 * DAY);

  beforeAll(async () => {
    crl1 = await ca.signCrl({ number: 1, thisUpdate, nextUpdate, revoked: [] });
    const revoked = agents[1]!;
    crl2 = await ca.signCrl({
      number: 2n,
      thisUpdate,
      nextUpdate,
      revoked: [
        { serial: revoked.cert.serial, revokedAt: new Date(), reason: "keyCompromise" },
        { serial: agents[3]!.cert.serial, revokedAt: new Date(), reason: "unspecified" },
      ],
    });
    file("crl1.pem", crl1.pem);
    file("crl.pem", crl2.pem);
  });

  it("uses the RFC 7468 label X509 CRL and parses as v2 with AKI, cRLNumber, reasons, nextUpdate ≈ 7 days", () => {
    for (const c of [crl1, crl2]) {
      expect(c.pem.startsWith("-----BEGIN X509 CRL-----\n")).toBe(true);
      expect(c.pem.trimEnd().endsWith("-----END X509 CRL-----")).toBe(true);
      const der = openssl(["crl", "-outform", "DER"], c.pem);
      expect(der.status).toBe(0);
    }
    const text = openssl(["crl", "-noout", "-text"], crl2.pem).stdout;
    expect(text).toContain("Version 2 (0x1)");
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toContain(`keyid:${ca.keyId.toUpperCase().match(/../g)!.join(":")}`.replace(/^keyid:/, ""));
    expect(text).toMatch(/X509v3 CRL Number:\s*\n\s*2\n/);
    expect(openssl(["crl", "-noout", "-text"], crl1.pem).stdout).toMatch(/X509v3 CRL Number:\s*\n\s*1\n/);
    expect(text).toContain(`Serial Number: ${agents[1]!.cert.serial.toUpperCase()}`);
    expect(text).toContain("Key Compromise");
    const last = /Last Update: (.+)\n/.exec(text)![1]!;
    const next = /Next Update: (.+)\n/.exec(text)![1]!;
    expect((Date.parse(next) - Date.parse(last)) / DAY).toBe(7);
    // the CRL signature verifies under the CA certificate
    const v = openssl(["crl", "-noout", "-CAfile", join(dir, "ca.pem")], crl2.pem);
    expect(v.status).toBe(0);
    expect(v.stderr + v.stdout).toMatch(/verify OK/);
  });

  it("every good certificate passes openssl verify -x509_strict -crl_check; the revoked ones fail as revoked", () => {
    const verify = (pem: string, name: string) =>
      openssl([
        "verify",
        "-x509_strict",
        "-crl_check",
        "-CAfile",
        join(dir, "ca.pem"),
        "-CRLfile",
        join(dir, "crl.pem"),
        file(name, pem),
      ]);
    for (const [i, a] of agents.entries()) {
      const r = verify(a.cert.pem, `agent-${i}.pem`);
      if (i === 1 || i === 3) {
        expect(r.status).not.toBe(0);
        expect(r.stdout + r.stderr).toContain("certificate revoked");
      } else {
        expect(r.status, r.stdout + r.stderr).toBe(0);
      }
    }
    expect(verify(logCert.pem, "log.pem").status).toBe(0);
    // with the empty CRL nobody is revoked
    const r = openssl([
      "verify",
      "-x509_strict",
      "-crl_check",
      "-CAfile",
      join(dir, "ca.pem"),
      "-CRLfile",
      join(dir, "crl1.pem"),
      join(dir, "agent-1.pem"),
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it("refuses malformed CRL requests", async () => {
    const serial = agents[0]!.cert.serial;
    expect(await codeOf(ca.signCrl({ number: 3, thisUpdate, nextUpdate: thisUpdate, revoked: [] }))).toBe(
      "ERR_VALIDATION",
    );
    expect(await codeOf(ca.signCrl({ number: -1, thisUpdate, nextUpdate, revoked: [] }))).toBe("ERR_VALIDATION");
    expect(
      await codeOf(
        ca.signCrl({
          number: 3,
          thisUpdate,
          nextUpdate,
          revoked: [{ serial: "zz", revokedAt: new Date(), reason: "keyCompromise" }],
        }),
      ),
    ).toBe("ERR_VALIDATION");
    expect(
      await codeOf(
        ca.signCrl({
          number: 3,
          thisUpdate,
          nextUpdate,
          revoked: [{ serial, revokedAt: new Date(), reason: "bogus" as never }],
        }),
      ),
    ).toBe("ERR_VALIDATION");
    const dup = { serial, revokedAt: new Date(), reason: "superseded" as const };
    expect(await codeOf(ca.signCrl({ number: 3, thisUpdate, nextUpdate, revoked: [dup, dup] }))).toBe("ERR_VALIDATION");
  });
});

describe("failures issue nothing", () => {
  it("a disabled CA key makes issuance and CRL signing fail with ERR_KEY_STATE", async () => {
    const arn = (await custody.createSigningKey({ purpose: "ca", tags: {}, description: "doomed CA" })).arn;
    const doomedRoot = await CertificateAuthority.createRoot(custody, arn, {});
    const doomed = new CertificateAuthority(
      custody,
      { keyArn: arn, certificateDer: doomedRoot.der },
      { trustDomain: TRUST_DOMAIN, crlUrl: CRL_URL, agentValidityDays: 365 },
    );
    await custody.disableKey(arn);
    await custody.disableKey(arn); // idempotent
    expect(await custody.describeKey(arn)).toMatchObject({ enabled: false, state: "Disabled" });
    expect(
      await codeOf(doomed.issueAgentCertificate({ agentId: "agt_x", issuerName: "Acme", publicKey: agents[0]!.spki })),
    ).toBe("ERR_KEY_STATE");
    expect(await codeOf(doomed.issueLogSignerCertificate({ publicKey: agents[0]!.spki }))).toBe("ERR_KEY_STATE");
    expect(
      await codeOf(
        doomed.signCrl({ number: 1, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 7 * DAY), revoked: [] }),
      ),
    ).toBe("ERR_KEY_STATE");
    expect(await codeOf(CertificateAuthority.createRoot(custody, arn, {}))).toBe("ERR_KEY_STATE");
    const err = await doomed
      .issueAgentCertificate({ agentId: "agt_x", issuerName: "Acme", publicKey: agents[0]!.spki })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_KEY_STATE", status: 409 });
  });

  it("a KMS that returns a bad signature is caught before anything is returned", async () => {
    class FlippingCustody extends KeyCustody {
      override async signDigest(arn: string, digest: Uint8Array, alg: SigningAlgorithm): Promise<Uint8Array> {
        const sig = await super.signDigest(arn, digest, alg);
        sig[10] = sig[10]! ^ 0x01;
        return sig;
      }
    }
    const faulty = new FlippingCustody(client, { region: kms.region, allowedRegions: ["eu-west-1"] });
    const bad = new CertificateAuthority(
      faulty,
      { keyArn: caArn, certificateDer: root.der },
      { trustDomain: TRUST_DOMAIN, crlUrl: CRL_URL, agentValidityDays: 365 },
    );
    expect(
      await codeOf(bad.issueAgentCertificate({ agentId: "agt_x", issuerName: "Acme", publicKey: agents[0]!.spki })),
    ).toBe("ERR_CA_SIGNATURE_INVALID");
    expect(
      await codeOf(
        bad.signCrl({ number: 9, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + DAY), revoked: [] }),
      ),
    ).toBe("ERR_CA_SIGNATURE_INVALID");
    expect(await codeOf(CertificateAuthority.createRoot(faulty, caArn, {}))).toBe("ERR_CA_SIGNATURE_INVALID");
    // A CA whose KMS key is not the certified one: signature check fails too.
    const wrongKey = new CertificateAuthority(
      custody,
      { keyArn: logArn, certificateDer: root.der },
      { trustDomain: TRUST_DOMAIN, crlUrl: CRL_URL, agentValidityDays: 365 },
    );
    expect(
      await codeOf(
        wrongKey.issueAgentCertificate({ agentId: "agt_x", issuerName: "Acme", publicKey: agents[0]!.spki }),
      ),
    ).toBe("ERR_CA_SIGNATURE_INVALID");
    expect(await codeOf(wrongKey.assertKeyMatchesCertificate())).toBe("ERR_PUBLIC_KEY_MISMATCH");
    await ca.assertKeyMatchesCertificate();
  });

  it("no private key material in anything the CA produces", () => {
    const outputs = [root.pem, logCert.pem, ...agents.map((a) => a.cert.pem), ca.certificatePem].join("\n");
    expect(outputs).not.toMatch(/PRIVATE KEY/);
    for (const pem of outputs.split(/(?=-----BEGIN )/).filter(Boolean)) {
      expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    }
  });
});
