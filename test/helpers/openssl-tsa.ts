import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * A TSA made with the real `openssl ts -reply`: a throwaway CA and TSA key/certificate generated in a
 * temp dir (never committed). Used to check that the client interoperates with OpenSSL's TSA.
 */
export const run = promisify(execFile);

export interface OpensslTsa {
  dir: string;
  caPem: string;
  tsaPem: string;
  /** Answers a DER TimeStampReq with `openssl ts -reply`. `essAlg` picks ESSCertID (sha1) or ESSCertIDv2 (sha256). */
  reply(query: Uint8Array, essAlg?: "sha1" | "sha256"): Promise<Uint8Array>;
}

export async function createOpensslTsa(name = "OpenSSL Test TSA"): Promise<OpensslTsa> {
  const dir = await mkdtemp(join(tmpdir(), "kakunin-openssl-tsa-"));
  const p = (f: string) => join(dir, f);
  await writeFile(
    p("ext.cnf"),
    [
      "[ca]",
      "basicConstraints=critical,CA:TRUE",
      "keyUsage=critical,keyCertSign,cRLSign",
      "[tsa]",
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=critical,timeStamping",
      "",
    ].join("\n"),
  );
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
    "-days",
    "30",
    "-subj",
    `/CN=${name} CA`,
    "-extensions",
    "ca",
    "-config",
    p("ext.cnf"),
  ]);
  await run("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    p("tsa.key"),
    "-out",
    p("tsa.csr"),
    "-subj",
    `/CN=${name}`,
  ]);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    p("tsa.csr"),
    "-CA",
    p("ca.pem"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-out",
    p("tsa.pem"),
    "-days",
    "20",
    "-extfile",
    p("ext.cnf"),
    "-extensions",
    "tsa",
  ]);
  await writeFile(p("serial"), "01\n");
  const config = (essAlg: string) =>
    [
      "[tsa]",
      "default_tsa = tsa_config",
      "[tsa_config]",
      `dir = ${dir}`,
      "serial = $dir/serial",
      "signer_cert = $dir/tsa.pem",
      "certs = $dir/ca.pem",
      "signer_key = $dir/tsa.key",
      "signer_digest = sha256",
      "default_policy = 1.3.6.1.4.1.32473.3161.2",
      "digests = sha256, sha384, sha512",
      "accuracy = secs:1",
      "ordering = no",
      "tsa_name = no",
      "ess_cert_id_chain = no",
      `ess_cert_id_alg = ${essAlg}`,
      "",
    ].join("\n");
  let n = 0;
  // `openssl ts -reply` reads, increments and rewrites one serial file: two at once can read it
  // half-written ("Error during serial number generation"). Like any TSA, answer one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    dir,
    caPem: await readFile(p("ca.pem"), "utf8"),
    tsaPem: await readFile(p("tsa.pem"), "utf8"),
    reply(query, essAlg = "sha256") {
      const answer = queue.then(() => replyNow(query, essAlg));
      queue = answer.catch(() => undefined);
      return answer;
    },
  };

  async function replyNow(query: Uint8Array, essAlg: "sha1" | "sha256"): Promise<Uint8Array> {
    const id = ++n;
    await writeFile(p(`q${id}.tsq`), query);
    await writeFile(p(`ts${id}.cnf`), config(essAlg));
    await run("openssl", [
      "ts",
      "-reply",
      "-config",
      p(`ts${id}.cnf`),
      "-queryfile",
      p(`q${id}.tsq`),
      "-out",
      p(`r${id}.tsr`),
    ]);
    return new Uint8Array(await readFile(p(`r${id}.tsr`)));
  }
}
