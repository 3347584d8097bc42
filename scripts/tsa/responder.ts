/**
 * Builds RFC 3161 TimeStampResp DER: TSTInfo, SignedData with the RFC 5816 SigningCertificateV2
 * (ESSCertIDv2, SHA-256) signed attribute, signed through KMS. Rejections carry PKIStatus 2 and failInfo.
 */
import { createHash, randomBytes } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { FAIL, parseTimestampRequest, RequestRefused } from "./request.js";

const OID = {
  signedData: "1.2.840.113549.1.7.2",
  tstInfo: "1.2.840.113549.1.9.16.1.4",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha256WithRSA: "1.2.840.113549.1.1.11",
};

export interface ResponderOptions {
  /** DER of the TSA certificate (its key is `keyId`). */
  certificate: Uint8Array;
  policy: string;
  /** Signs a SHA-256 digest (RSASSA-PKCS1-v1_5) with the TSA key; must enforce its own deadline. */
  signDigest: (digest: Uint8Array) => Promise<Uint8Array>;
  /** Injectable clock. */
  now: () => Date;
  /** Accuracy stated in TSTInfo, in seconds. */
  accuracySeconds: number;
  /** Called with the reason when KMS fails (the reply says only systemFailure). */
  onSystemFailure?: (err: unknown) => void;
}

const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());
const alg = (oid: string) => new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid })] });

/** BIT STRING with one named bit set (DER: trailing zero bits dropped). */
function failInfo(bit: number): asn1js.BitString {
  const bytes = new Uint8Array((bit >> 3) + 1);
  bytes[bit >> 3] = 0x80 >> (bit & 7);
  return new asn1js.BitString({ valueHex: bytes, unusedBits: 7 - (bit & 7) });
}

function derSetOf(items: asn1js.AsnType[]): Uint8Array {
  // DER SET OF: elements sorted by their encodings (X.690 §11.6).
  const encoded = items.map((i) => new Uint8Array(i.toBER()));
  encoded.sort((a, b) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  const body = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
  let at = 0;
  for (const e of encoded) {
    body.set(e, at);
    at += e.length;
  }
  return setDer(body);
}

function setDer(body: Uint8Array): Uint8Array {
  const len = body.length;
  const lenBytes = len < 0x80 ? [len] : len < 0x100 ? [0x81, len] : [0x82, len >> 8, len & 0xff];
  return new Uint8Array([0x31, ...lenBytes, ...body]);
}

function attribute(oid: string, value: asn1js.AsnType): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: oid }), new asn1js.Set({ value: [value] })],
  });
}

export class Responder {
  private readonly cert: pkijs.Certificate;
  private readonly serialPrefix = randomBytes(8);
  private counter = 0n;

  constructor(private readonly opts: ResponderOptions) {
    this.cert = pkijs.Certificate.fromBER(new Uint8Array(opts.certificate));
  }

  /** A per-process random prefix and a counter: unique within the process, and across restarts with overwhelming probability. */
  private nextSerial(): Uint8Array {
    this.counter += 1n;
    const out = new Uint8Array(16);
    out.set(this.serialPrefix, 0);
    new DataView(out.buffer).setBigUint64(8, this.counter);
    out[0] = (out[0]! & 0x7f) | 0x01;
    return out;
  }

  /** Answers one request (DER in, DER TimeStampResp out). Never throws for bad input. */
  async respond(requestDer: Uint8Array): Promise<Uint8Array> {
    let req;
    try {
      req = parseTimestampRequest(requestDer, this.opts.policy);
    } catch (err) {
      if (err instanceof RequestRefused) return this.rejection(err.failBit, err.message);
      return this.rejection(FAIL.badDataFormat, "the request does not parse");
    }
    try {
      return await this.grant(req);
    } catch (err) {
      this.opts.onSystemFailure?.(err);
      return this.rejection(FAIL.systemFailure, "the TSA could not sign; try again later");
    }
  }

  private rejection(bit: number, text: string): Uint8Array {
    const status = new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 2 }),
        new asn1js.Sequence({ value: [new asn1js.Utf8String({ value: text })] }),
        failInfo(bit),
      ],
    });
    return new Uint8Array(new asn1js.Sequence({ value: [status] }).toBER());
  }

  private async grant(req: ReturnType<typeof parseTimestampRequest>): Promise<Uint8Array> {
    // Whole seconds: GeneralizedTime without fractions; the accuracy field states the rest.
    const genTime = new Date(Math.floor(this.opts.now().getTime() / 1000) * 1000);
    const tstFields: asn1js.AsnType[] = [
      new asn1js.Integer({ value: 1 }),
      new asn1js.ObjectIdentifier({ value: this.opts.policy }),
      new asn1js.Sequence({ value: [alg(req.hashOid), new asn1js.OctetString({ valueHex: req.hashed })] }),
      new asn1js.Integer({ valueHex: this.nextSerial() }),
      new asn1js.GeneralizedTime({ valueDate: genTime }),
      new asn1js.Sequence({ value: [new asn1js.Integer({ value: this.opts.accuracySeconds })] }),
    ];
    if (req.nonce) tstFields.push(new asn1js.Integer({ valueHex: req.nonce.valueBlock.valueHexView }));
    const tstInfo = new Uint8Array(new asn1js.Sequence({ value: tstFields }).toBER());

    const certDer = new Uint8Array(this.opts.certificate);
    // ESSCertIDv2 { hashAlgorithm DEFAULT sha256 (omitted), certHash, issuerSerial { issuer GeneralNames, serialNumber } }.
    const issuerSerial = new asn1js.Sequence({
      value: [
        new asn1js.Sequence({
          value: [
            new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 4 }, value: [this.cert.issuer.toSchema()] }),
          ],
        }),
        new asn1js.Integer({ valueHex: this.cert.serialNumber.valueBlock.valueHexView }),
      ],
    });
    const essCertIdV2 = new asn1js.Sequence({
      value: [new asn1js.OctetString({ valueHex: sha256(certDer) }), issuerSerial],
    });
    const signedAttrsDer = derSetOf([
      attribute(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.tstInfo })),
      attribute(OID.messageDigest, new asn1js.OctetString({ valueHex: sha256(tstInfo) })),
      attribute(
        OID.signingCertificateV2,
        new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] }),
      ),
    ]);
    const signature = await this.opts.signDigest(sha256(signedAttrsDer));

    // [0] IMPLICIT SET OF Attribute: the signed bytes with the tag rewritten.
    const signedAttrsImplicit = new Uint8Array(signedAttrsDer);
    signedAttrsImplicit[0] = 0xa0;
    const signerInfo = new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 1 }),
        new asn1js.Sequence({
          value: [
            this.cert.issuer.toSchema(),
            new asn1js.Integer({ valueHex: this.cert.serialNumber.valueBlock.valueHexView }),
          ],
        }),
        alg(OID.sha256),
        asn1js.fromBER(signedAttrsImplicit.slice().buffer).result,
        alg(OID.sha256WithRSA),
        new asn1js.OctetString({ valueHex: signature }),
      ],
    });
    const signedDataFields: asn1js.AsnType[] = [
      new asn1js.Integer({ value: 3 }),
      new asn1js.Set({ value: [alg(OID.sha256)] }),
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({ value: OID.tstInfo }),
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 0 },
            value: [new asn1js.OctetString({ valueHex: tstInfo })],
          }),
        ],
      }),
    ];
    if (req.certReq)
      signedDataFields.push(
        new asn1js.Constructed({
          idBlock: { tagClass: 3, tagNumber: 0 },
          value: [asn1js.fromBER(certDer.slice().buffer).result],
        }),
      );
    signedDataFields.push(new asn1js.Set({ value: [signerInfo] }));
    const contentInfo = new asn1js.Sequence({
      value: [
        new asn1js.ObjectIdentifier({ value: OID.signedData }),
        new asn1js.Constructed({
          idBlock: { tagClass: 3, tagNumber: 0 },
          value: [new asn1js.Sequence({ value: signedDataFields })],
        }),
      ],
    });
    const status = new asn1js.Sequence({ value: [new asn1js.Integer({ value: 0 })] });
    return new Uint8Array(new asn1js.Sequence({ value: [status, contentInfo] }).toBER());
  }
}
