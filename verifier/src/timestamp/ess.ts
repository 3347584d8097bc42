/**
 * The ESSCertID (RFC 2634) / ESSCertIDv2 (RFC 5035, RFC 5816) binding: the signed attribute that
 * names the signer certificate by hash, so a token cannot be re-attributed to another certificate.
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { TimestampSignatureError } from "./errors.js";
import { OID_ATTR_SIGNING_CERTIFICATE, OID_ATTR_SIGNING_CERTIFICATE_V2, OID_SHA1, OID_SHA256 } from "./oids.js";
import { digestByOid, own, UnsupportedAlgorithmError } from "./signature.js";

function fail(message: string): never {
  throw new TimestampSignatureError(message, { field: "signingCertificate" });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Checks that the first ESSCertID[v2] of each signing-certificate attribute names `signer` (hash and
 * issuerSerial). At least one is required; a TSA may include both (RFC 5816 §2.2.1), then both must match.
 */
export async function checkEssBinding(attrs: readonly pkijs.Attribute[], signer: pkijs.Certificate): Promise<void> {
  const v1 = attrs.filter((a) => a.type === OID_ATTR_SIGNING_CERTIFICATE);
  const v2 = attrs.filter((a) => a.type === OID_ATTR_SIGNING_CERTIFICATE_V2);
  if (v1.length + v2.length === 0)
    fail("the token carries neither a SigningCertificate nor a SigningCertificateV2 signed attribute");
  if (v1.length > 1 || v2.length > 1) fail("a signing-certificate attribute appears more than once");
  for (const attr of [...v1, ...v2]) {
    try {
      await checkOne(attr, signer);
    } catch (err) {
      if (err instanceof TimestampSignatureError) throw err;
      fail(`a signing-certificate attribute does not parse: ${(err as Error).message}`);
    }
  }
}

async function checkOne(attr: pkijs.Attribute, signer: pkijs.Certificate): Promise<void> {
  if (attr.values.length !== 1) fail("a signing-certificate attribute must have exactly one value");
  const v2 = attr.type === OID_ATTR_SIGNING_CERTIFICATE_V2;
  const value = attr.values[0];
  const certs = value instanceof asn1js.Sequence ? value.valueBlock.value[0] : undefined;
  const first = certs instanceof asn1js.Sequence ? certs.valueBlock.value[0] : undefined;
  if (!(first instanceof asn1js.Sequence)) fail("SigningCertificate has no ESSCertID");
  const parts = [...first.valueBlock.value];
  // ESSCertIDv2's hashAlgorithm is DEFAULT id-sha256 (so absent in DER when SHA-256).
  let hashOid = v2 ? OID_SHA256 : OID_SHA1;
  if (v2 && parts[0] instanceof asn1js.Sequence) {
    const alg = new pkijs.AlgorithmIdentifier({ schema: parts.shift()! });
    hashOid = alg.algorithmId;
  }
  const certHash = parts.shift();
  if (!(certHash instanceof asn1js.OctetString)) fail("ESSCertID has no certHash");
  let expected: Uint8Array;
  try {
    expected = await digestByOid(hashOid, new Uint8Array(signer.toSchema().toBER()));
  } catch (err) {
    if (err instanceof UnsupportedAlgorithmError) fail(`ESSCertIDv2 hash ${hashOid} is not supported`);
    throw err;
  }
  if (!sameBytes(own(certHash.valueBlock.valueHexView), expected))
    fail("ESSCertID certHash does not match the signer certificate");
  const issuerSerial = parts.shift();
  if (issuerSerial === undefined) return;
  if (!(issuerSerial instanceof asn1js.Sequence)) fail("ESSCertID issuerSerial is not a SEQUENCE");
  const [names, serial] = issuerSerial.valueBlock.value;
  if (!(serial instanceof asn1js.Integer) || !serial.isEqual(signer.serialNumber))
    fail("ESSCertID issuerSerial names another serial number");
  const generalNames = names instanceof asn1js.Sequence ? new pkijs.GeneralNames({ schema: names }) : undefined;
  const dirName = generalNames?.names.find((n) => n.type === 4)?.value;
  if (!(dirName instanceof pkijs.RelativeDistinguishedNames) || !dirName.isEqual(signer.issuer))
    fail("ESSCertID issuerSerial names another issuer");
}
