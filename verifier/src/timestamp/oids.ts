/** Object identifiers of RFC 3161, RFC 5816, RFC 5652 and the hash/signature algorithms the client accepts. */
export const OID_SIGNED_DATA = "1.2.840.113549.1.7.2";
export const OID_CT_TST_INFO = "1.2.840.113549.1.9.16.1.4";
export const OID_ATTR_CONTENT_TYPE = "1.2.840.113549.1.9.3";
export const OID_ATTR_MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
/** RFC 2634 SigningCertificate (ESSCertID, SHA-1). */
export const OID_ATTR_SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12";
/** RFC 5035 SigningCertificateV2 (ESSCertIDv2), required by RFC 5816 for hashes other than SHA-1. */
export const OID_ATTR_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47";
export const OID_KP_TIME_STAMPING = "1.3.6.1.5.5.7.3.8";
export const OID_EXT_EKU = "2.5.29.37";
export const OID_EXT_KEY_USAGE = "2.5.29.15";
export const OID_EXT_BASIC_CONSTRAINTS = "2.5.29.19";
export const OID_EXT_SKI = "2.5.29.14";

export const OID_SHA1 = "1.3.14.3.2.26";
export const OID_SHA256 = "2.16.840.1.101.3.4.2.1";
export const OID_SHA384 = "2.16.840.1.101.3.4.2.2";
export const OID_SHA512 = "2.16.840.1.101.3.4.2.3";

export const OID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
export const OID_SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
export const OID_SHA384_WITH_RSA = "1.2.840.113549.1.1.12";
export const OID_SHA512_WITH_RSA = "1.2.840.113549.1.1.13";
export const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
export const OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2";
export const OID_ECDSA_SHA384 = "1.2.840.10045.4.3.3";
export const OID_P256 = "1.2.840.10045.3.1.7";
export const OID_P384 = "1.3.132.0.34";

/** WebCrypto hash name and digest length per hash OID. SHA-1 only for RFC 2634 ESSCertID. */
export const HASHES: Readonly<Record<string, { name: "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512"; length: number }>> = {
  [OID_SHA1]: { name: "SHA-1", length: 20 },
  [OID_SHA256]: { name: "SHA-256", length: 32 },
  [OID_SHA384]: { name: "SHA-384", length: 48 },
  [OID_SHA512]: { name: "SHA-512", length: 64 },
};
