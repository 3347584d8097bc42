/**
 * The dev TSA as a real child process signing through the real local KMS, checked both ways with the
 * real openssl binary, and the client checked against both the dev TSA and `openssl ts -reply`.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { createOpensslTsa, run, type OpensslTsa } from "../../helpers/openssl-tsa.js";
import { startDevTsa, type DevTsa } from "../../helpers/tsa.js";
import {
  buildTimestampRequest,
  fetchTimestamp,
  parseTsaTrustList,
  TimestampMismatchError,
  TimestampRejectedError,
  TimestampUntrustedError,
  verifyTimestampResponse,
} from "../../../verifier/src/timestamp/index.js";

let kms: LocalKms;
let tsa: DevTsa;
let ossl: OpensslTsa;
let caPem: string;
let tsaPem: string;

const sha256 = (b: Uint8Array | string) => new Uint8Array(createHash("sha256").update(b).digest());

async function post(url: string, body: Uint8Array, type = "application/timestamp-query"): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": type },
    body: new Uint8Array(body) as Uint8Array<ArrayBuffer>,
  });
}

async function stamp(body: Uint8Array): Promise<Uint8Array> {
  const res = await post(`${tsa.url}/`, body);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/timestamp-reply");
  return new Uint8Array(await res.arrayBuffer());
}

beforeAll(async () => {
  kms = await startLocalKms();
  [tsa, ossl] = await Promise.all([
    startDevTsa(kms.endpoint, ["--policy", "1.3.6.1.4.1.32473.77"]),
    createOpensslTsa(),
  ]);
  caPem = await (await fetch(`${tsa.url}/v1/public/tsa-ca.pem`)).text();
  tsaPem = await (await fetch(`${tsa.url}/v1/public/tsa.pem`)).text();
  await writeFile(join(ossl.dir, "dev-ca.pem"), caPem);
  await writeFile(join(ossl.dir, "dev-tsa.pem"), tsaPem);
});

afterAll(async () => {
  await tsa?.stop();
  await kms?.stop();
});

describe("dev TSA ↔ openssl", () => {
  it("answers openssl's own ts -query, and openssl ts -verify accepts the token (-data and -queryfile)", async () => {
    const d = ossl.dir;
    await writeFile(join(d, "data.txt"), "checkpoint body\n");
    await run("openssl", ["ts", "-query", "-data", join(d, "data.txt"), "-sha256", "-cert", "-out", join(d, "o.tsq")]);
    const reply = await stamp(new Uint8Array(await readFile(join(d, "o.tsq"))));
    await writeFile(join(d, "o.tsr"), reply);
    const text = (await run("openssl", ["ts", "-reply", "-in", join(d, "o.tsr"), "-text"])).stdout;
    expect(text).toContain("Status: Granted.");
    expect(text).toContain("Policy OID: 1.3.6.1.4.1.32473.77");
    expect(text).toMatch(/Nonce: 0x[0-9A-F]+/);
    const verify = await run("openssl", [
      "ts",
      "-verify",
      "-data",
      join(d, "data.txt"),
      "-in",
      join(d, "o.tsr"),
      "-CAfile",
      join(d, "dev-ca.pem"),
      "-untrusted",
      join(d, "dev-tsa.pem"),
    ]);
    expect(verify.stdout).toContain("Verification: OK");
    // -queryfile also checks the nonce and that the certificate is in the token (certReq honoured).
    const verifyQ = await run("openssl", [
      "ts",
      "-verify",
      "-queryfile",
      join(d, "o.tsq"),
      "-in",
      join(d, "o.tsr"),
      "-CAfile",
      join(d, "dev-ca.pem"),
    ]);
    expect(verifyQ.stdout).toContain("Verification: OK");
  });

  it("openssl ts -verify refuses the token against another CA (the check can fail)", async () => {
    const d = ossl.dir;
    await writeFile(join(d, "data2.txt"), "x");
    await run("openssl", [
      "ts",
      "-query",
      "-data",
      join(d, "data2.txt"),
      "-sha256",
      "-cert",
      "-out",
      join(d, "o2.tsq"),
    ]);
    await writeFile(join(d, "o2.tsr"), await stamp(new Uint8Array(await readFile(join(d, "o2.tsq")))));
    await expect(
      run("openssl", [
        "ts",
        "-verify",
        "-data",
        join(d, "data2.txt"),
        "-in",
        join(d, "o2.tsr"),
        "-CAfile",
        join(d, "ca.pem"),
      ]),
    ).rejects.toThrow();
  });

  it("without certReq the token carries no certificate (openssl needs -untrusted then)", async () => {
    const d = ossl.dir;
    await run("openssl", [
      "ts",
      "-query",
      "-data",
      join(d, "data.txt"),
      "-sha256",
      "-no_nonce",
      "-out",
      join(d, "n.tsq"),
    ]);
    await writeFile(join(d, "n.tsr"), await stamp(new Uint8Array(await readFile(join(d, "n.tsq")))));
    const text = (
      await run("openssl", ["ts", "-reply", "-in", join(d, "n.tsr"), "-token_out", "-out", join(d, "n.tok")])
    ).stdout;
    expect(text).toBe("");
    const certs = (await run("openssl", ["pkcs7", "-inform", "DER", "-in", join(d, "n.tok"), "-print_certs"])).stdout;
    expect(certs).not.toContain("BEGIN CERTIFICATE");
    const ok = await run("openssl", [
      "ts",
      "-verify",
      "-data",
      join(d, "data.txt"),
      "-in",
      join(d, "n.tsr"),
      "-CAfile",
      join(d, "dev-ca.pem"),
      "-untrusted",
      join(d, "dev-tsa.pem"),
    ]);
    expect(ok.stdout).toContain("Verification: OK");
  });

  it("refuses SHA-1 imprints with rejection/badAlg and garbage with rejection/badDataFormat", async () => {
    const d = ossl.dir;
    await run("openssl", ["ts", "-query", "-data", join(d, "data.txt"), "-sha1", "-out", join(d, "s1.tsq")]);
    await writeFile(join(d, "s1.tsr"), await stamp(new Uint8Array(await readFile(join(d, "s1.tsq")))));
    const bad = (await run("openssl", ["ts", "-reply", "-in", join(d, "s1.tsr"), "-text"])).stdout;
    expect(bad).toContain("Status: Rejected.");
    expect(bad).toContain("unrecognized or unsupported algorithm identifier");
    await writeFile(join(d, "g.tsr"), await stamp(new Uint8Array([0x30, 0x03, 0x02, 0x01])));
    const garbage = (await run("openssl", ["ts", "-reply", "-in", join(d, "g.tsr"), "-text"])).stdout;
    expect(garbage).toContain("Status: Rejected.");
    expect(garbage).toContain("the data submitted has the wrong format");
  });

  it("answers other content types and methods with problem+json", async () => {
    const res = await post(`${tsa.url}/`, new Uint8Array([1]), "application/octet-stream");
    expect(res.status).toBe(415);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await res.json()).code).toBe("ERR_CONTENT_TYPE");
    expect((await fetch(`${tsa.url}/`)).status).toBe(405);
    const big = await post(`${tsa.url}/`, new Uint8Array(20_000));
    expect(big.status).toBe(413);
    expect((await big.json()).code).toBe("ERR_TOO_LARGE");
  });
});

describe("client against the dev TSA", () => {
  it("verifies a token for its own request and returns genTime, policy and the path to the pinned CA", async () => {
    const imprint = sha256("checkpoint 1");
    const req = buildTimestampRequest(imprint);
    const before = Date.now();
    const res = await verifyTimestampResponse(await stamp(req.der), {
      imprint,
      nonce: req.nonce,
      trusted: parseTsaTrustList(caPem),
      acceptedPolicies: ["1.3.6.1.4.1.32473.77"],
    });
    expect(res.policy).toBe("1.3.6.1.4.1.32473.77");
    expect(Math.abs(res.genTime.getTime() - before)).toBeLessThan(60_000);
    expect(res.path).toHaveLength(2);
    expect(res.accuracyMs).toBe(1000);
  });

  it("serial numbers differ between tokens", async () => {
    const imprint = sha256("same");
    const serials = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const req = buildTimestampRequest(imprint);
      serials.add(
        (
          await verifyTimestampResponse(await stamp(req.der), {
            imprint,
            nonce: req.nonce,
            trusted: parseTsaTrustList(caPem),
          })
        ).serialNumber,
      );
    }
    expect(serials.size).toBe(5);
  });

  it("refuses a reply for another imprint, another nonce, or under a trust list without the dev CA", async () => {
    const imprint = sha256("a");
    const req = buildTimestampRequest(imprint);
    const reply = await stamp(req.der);
    const trusted = parseTsaTrustList(caPem);
    await expect(
      verifyTimestampResponse(reply, { imprint: sha256("b"), nonce: req.nonce, trusted }),
    ).rejects.toBeInstanceOf(TimestampMismatchError);
    await expect(
      verifyTimestampResponse(reply, { imprint, nonce: buildTimestampRequest(imprint).nonce, trusted }),
    ).rejects.toBeInstanceOf(TimestampMismatchError);
    await expect(
      verifyTimestampResponse(reply, { imprint, nonce: req.nonce, trusted: parseTsaTrustList(ossl.caPem) }),
    ).rejects.toBeInstanceOf(TimestampUntrustedError);
    await expect(
      verifyTimestampResponse(reply, { imprint, nonce: req.nonce, trusted, acceptedPolicies: ["1.2.3"] }),
    ).rejects.toBeInstanceOf(TimestampMismatchError);
  });

  it("a policy the TSA does not offer is rejected with unacceptedPolicy", async () => {
    const req = buildTimestampRequest(sha256("p"), { policy: "1.2.3.4" });
    const err = await verifyTimestampResponse(await stamp(req.der), {
      imprint: sha256("p"),
      trusted: parseTsaTrustList(caPem),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TimestampRejectedError);
    expect(err.failInfo).toEqual(["unacceptedPolicy"]);
  });

  it("re-issues byte-identical certificates after a restart (the pin survives)", async () => {
    const again = await startDevTsa(kms.endpoint);
    try {
      expect(await (await fetch(`${again.url}/v1/public/tsa-chain.pem`)).text()).toBe(tsaPem + caPem);
    } finally {
      await again.stop();
    }
  });

  it("a stopped KMS yields rejection/systemFailure within the deadline, not a hang", async () => {
    const slow = await startDevTsa(kms.endpoint, ["--kms-timeout-ms", "500"]);
    process.kill(kms.pid, "SIGSTOP");
    try {
      const req = buildTimestampRequest(sha256("k"));
      const res = await post(`${slow.url}/`, req.der);
      const err = await verifyTimestampResponse(new Uint8Array(await res.arrayBuffer()), {
        imprint: sha256("k"),
        trusted: parseTsaTrustList(caPem),
      }).catch((e) => e);
      expect(err).toBeInstanceOf(TimestampRejectedError);
      expect(err.failInfo).toEqual(["systemFailure"]);
    } finally {
      process.kill(kms.pid, "SIGCONT");
      await slow.stop();
    }
  });
});

describe("fetchTimestamp (one HTTP round trip with a deadline)", () => {
  it("gets and verifies a token from the dev TSA", async () => {
    const res = await fetchTimestamp(`${tsa.url}/`, sha256("round trip"), {
      trusted: parseTsaTrustList(caPem),
      timeoutMs: 10_000,
    });
    expect(res.token.length).toBeGreaterThan(500);
    expect(res.policy).toBe("1.3.6.1.4.1.32473.77");
  });

  it("a TSA that does not answer is ERR_TSA_UNAVAILABLE after the deadline; a non-TSA URL too", async () => {
    const frozen = await startDevTsa(kms.endpoint);
    process.kill(frozen.pid, "SIGSTOP");
    try {
      await expect(
        fetchTimestamp(`${frozen.url}/`, sha256("x"), { trusted: parseTsaTrustList(caPem), timeoutMs: 300 }),
      ).rejects.toMatchObject({ code: "ERR_TSA_UNAVAILABLE" });
    } finally {
      process.kill(frozen.pid, "SIGCONT");
      await frozen.stop();
    }
    await expect(
      fetchTimestamp(`${tsa.url}/v1/public/tsa.pem`, sha256("x"), {
        trusted: parseTsaTrustList(caPem),
        timeoutMs: 5000,
      }),
    ).rejects.toMatchObject({ code: "ERR_TSA_UNAVAILABLE" });
    await expect(
      fetchTimestamp(`${kms.endpoint}/`, sha256("x"), { trusted: parseTsaTrustList(caPem), timeoutMs: 5000 }),
    ).rejects.toMatchObject({ code: "ERR_TSA_UNAVAILABLE" });
  });
});

describe("client against openssl ts -reply", () => {
  for (const essAlg of ["sha256", "sha1"] as const) {
    it(`verifies OpenSSL's token (ESSCertID${essAlg === "sha1" ? "" : "v2"}) and refuses it under the dev CA pin`, async () => {
      const imprint = sha256(`openssl ${essAlg}`);
      const req = buildTimestampRequest(imprint);
      const reply = await ossl.reply(req.der, essAlg);
      const res = await verifyTimestampResponse(reply, {
        imprint,
        nonce: req.nonce,
        trusted: parseTsaTrustList(ossl.caPem),
      });
      expect(res.policy).toBe("1.3.6.1.4.1.32473.3161.2");
      // Pinning the TSA certificate itself works too.
      await expect(
        verifyTimestampResponse(reply, { imprint, nonce: req.nonce, trusted: parseTsaTrustList(ossl.tsaPem) }),
      ).resolves.toBeTruthy();
      await expect(
        verifyTimestampResponse(reply, { imprint, nonce: req.nonce, trusted: parseTsaTrustList(caPem) }),
      ).rejects.toBeInstanceOf(TimestampUntrustedError);
      await expect(
        verifyTimestampResponse(reply, {
          imprint: sha256("other"),
          nonce: req.nonce,
          trusted: parseTsaTrustList(ossl.caPem),
        }),
      ).rejects.toBeInstanceOf(TimestampMismatchError);
    });
  }

  it("our request passes openssl's own query parser", async () => {
    const req = buildTimestampRequest(sha256("q"));
    await writeFile(join(ossl.dir, "ours.tsq"), req.der);
    const text = (await run("openssl", ["ts", "-query", "-in", join(ossl.dir, "ours.tsq"), "-text"])).stdout;
    expect(text).toContain("Hash Algorithm: sha256");
    expect(text).toContain("Certificate required: yes");
    expect(text).toMatch(/Nonce: 0x[0-9A-F]{32}/);
    // The dev TSA's reply to our request passes openssl's -queryfile check (imprint, nonce, certificate).
    await writeFile(join(ossl.dir, "ours.tsr"), await stamp(req.der));
    const verify = await run("openssl", [
      "ts",
      "-verify",
      "-queryfile",
      join(ossl.dir, "ours.tsq"),
      "-in",
      join(ossl.dir, "ours.tsr"),
      "-CAfile",
      join(ossl.dir, "dev-ca.pem"),
    ]);
    expect(verify.stdout).toContain("Verification: OK");
  });
});

describe("npm run tsa command line", () => {
  const main = join(process.cwd(), "scripts", "tsa", "main.ts");
  it("--help prints the usage and exits 0; a bad option or value exits 2 naming it", async () => {
    const help = await run(process.execPath, ["--import", "tsx", main, "--help"]);
    expect(help.stdout).toContain("POST /");
    expect(help.stdout).toContain("/v1/public/tsa.pem");
    const bad = await run(process.execPath, ["--import", "tsx", main, "--port", "x"]).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--port must be an integer");
    const badPolicy = await run(process.execPath, ["--import", "tsx", main, "--policy", "not-an-oid"]).catch((e) => e);
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toContain("--policy must be an OID");
  });

  it("the client is exported as @kakunin/verifier/timestamp", async () => {
    const mod = await import("@kakunin/verifier/timestamp");
    expect(typeof mod.verifyTimestampResponse).toBe("function");
  });
});
