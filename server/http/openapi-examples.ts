/**
 * Request and response examples of /openapi.json, keyed by operationId and attached to the
 * generated document (openapi.ts, `withExamples`). Kept here, not in the route files, so that the
 * routes stay short; Spectral's `oas3-valid-media-example` checks every one against its schema
 * (test/integration/toolkit/openapi.test.ts). Values are shaped like a real run's, tokens are fake.
 */
import { ZERO_HASH } from "@kakunin/verifier/formats";

const ISSUER = "iss_e58b3f18df024250e02cce7200de60cb";
const AGENT = "agt_250b0ad5ee659166c44c72f8c53f0ae2";
const SERIAL = "26a01046ac2d6662cb3b718e0fd5a503";
const NEW_SERIAL = "3ba817c5040c0bc1920155b294e60e2b";
const KEY = "arn:aws:kms:eu-west-1:111122223333:key/1382f1d9-87ce-4d8f-a319-6b58806a090b";
const NEW_KEY = "arn:aws:kms:eu-west-1:111122223333:key/31154aaf-23e8-4213-a9e0-66a1ab636697";
const LOG_SERIAL = "2a6928dea1ced202cd72da810ed49822";
const LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/79942faa-ed5a-499d-845d-372705bcbc7e";
const CERT_PEM =
  "-----BEGIN CERTIFICATE-----\nMIID8jCCAtqgAwIBAgIQJqAQRqwtZmLLO3GODtWlAzANBgkqhkiG9w0BAQsFADA…\n-----END CERTIFICATE-----\n";
const CA_PEM =
  "-----BEGIN CERTIFICATE-----\nMIIDSDCCAjCgAwIBAgIQWWjhNsplhhvGqWUJzJ6sLzANBgkqhkiG9w0BAQsFADA…\n-----END CERTIFICATE-----\n";
const CRL_PEM = "-----BEGIN X509 CRL-----\nMIIBpjCBjwIBATANBgkqhkiG9w0BAQsFADA…\n-----END X509 CRL-----\n";
const SIG = "FlRRjME7FYABNIUYu0TiYDFuMEX9kaLbiQlyo6vx5fuUMrZCWBLD/ngPWTd3FEeFImNacO2BNWMDaMuRgospgtXg==";
const HEAD = "0256934711e84062e2363ee7dbce64623337c6d163d1738ce5850838bdbe9398";
const LOG_ORIGIN = `kakunin.example/${ISSUER}`;
const LOG_VKEY = `${LOG_ORIGIN}+5a1f0c3e+AaG4cZtDvE1zVv0zUKqJxq1i3Jm8qEzTjZb4s0n6WqfM`;
const PROOF_HASH = "lUqMIr2eNWvBXNmZ+p1cSGyG4jYQd7IWkJE1VbtRknc=";
const PROOF_HASH_2 = "3Z2nL7hZ0cYc6S1wZEq7bqQe0r5Zq2V7C0mV1yHh8e4=";
const CHECKPOINT_NOTE = `${LOG_ORIGIN}\n2\nAlZpNHHoQGLiNj7n285kYjM3xtFj0XOM5YUIOL2+k5g=\n\n— ${LOG_ORIGIN} Wh8MPqvHdZt3lWm3Q0aBq6gTHb5c1y6u0oG3C5V9y8gV2JmFyx3k1a8v0Qw2m6P4tYzC1nEeR7sL9bXcVh2fA3kQ5w==\n`;
const PREV = "335f1a7c8346d15b227f95036671e524f025e4a7fc64011d5cfe796b4bed7c89";

const key = (arn: string, disabledAt: string | null) => ({
  arn,
  state: disabledAt ? "Disabled" : "Enabled",
  createdAt: "2026-12-02T17:13:02.175Z",
  disabledAt,
});
const certificate = (serial: string, status: "active" | "superseded" | "revoked", arn: string) => ({
  serial,
  pem: CERT_PEM,
  status,
  notBefore: "2026-12-02T17:13:02.000Z",
  notAfter: "2027-12-02T17:13:02.000Z",
  issuedAt: "2026-12-02T17:13:02.175Z",
  supersededAt: status === "superseded" ? "2026-12-02T17:20:41.485Z" : null,
  revokedAt: status === "revoked" ? "2026-12-02T17:31:09.528Z" : null,
  revocationReason: status === "revoked" ? "keyCompromise" : null,
  key: key(arn, status === "active" ? null : "2026-12-02T17:20:41.507Z"),
});
const agent = (status: "fresh" | "rotated" | "revoked") => ({
  id: AGENT,
  name: "payments-bot",
  issuer: { id: ISSUER, name: "Acme Bank" },
  status: status === "revoked" ? "revoked" : "active",
  createdAt: "2026-12-02T17:13:02.175Z",
  activeCertificate: status === "fresh" ? SERIAL : status === "rotated" ? NEW_SERIAL : null,
  keyArn: status === "fresh" ? KEY : status === "rotated" ? NEW_KEY : null,
  certificates:
    status === "fresh"
      ? [certificate(SERIAL, "active", KEY)]
      : [
          certificate(SERIAL, "superseded", KEY),
          certificate(NEW_SERIAL, status === "rotated" ? "active" : "revoked", NEW_KEY),
        ],
});
const checkpoint = {
  issuer: ISSUER,
  size: 2,
  head: HEAD,
  time: "2026-12-02T17:13:02.215Z",
  signer: { cert: LOG_SERIAL, key: LOG_KEY, alg: "RSASSA_PSS_SHA_256" },
  sig: SIG,
};
const registeredEntry = {
  v: 1,
  seq: 0,
  time: "2026-12-02T17:13:02.179Z",
  type: "agent.registered",
  issuer: ISSUER,
  agent: AGENT,
  signer: { cert: LOG_SERIAL, key: LOG_KEY, alg: "RSASSA_PSS_SHA_256" },
  payloadHash: "1592004bc12f86fa496f7c25b5bcff79a877bccdee662a54408ab193e1b95479",
  prevHash: "0000000000000000000000000000000000000000000000000000000000000000",
  details: {
    name: "payments-bot",
    cert: SERIAL,
    key: KEY,
    notBefore: "2026-12-02T17:13:02.000Z",
    notAfter: "2027-12-02T17:13:02.000Z",
  },
  hash: PREV,
  sig: SIG,
};
const operationEntry = {
  v: 1,
  seq: 1,
  time: "2026-12-02T17:13:02.197Z",
  type: "agent.operation",
  issuer: ISSUER,
  agent: AGENT,
  signer: { cert: SERIAL, key: KEY, alg: "RSASSA_PSS_SHA_256" },
  payloadHash: "883eff9a45bdb09cf2941f536201681e78035fe26ceb99fddef2ce4696091a00",
  prevHash: PREV,
  hash: HEAD,
  sig: SIG,
};

/** Examples of one operation: the JSON request body and responses by status code. */
export interface OperationExamples {
  request?: unknown;
  responses?: Record<string, unknown>;
}

export const OPERATION_EXAMPLES: Record<string, OperationExamples> = {
  getHealth: { responses: { 200: { status: "ok", time: "2026-12-02T17:13:01.537Z" } } },
  getReadiness: {
    responses: {
      200: {
        status: "ready",
        time: "2026-12-02T17:13:01.537Z",
        dependencies: { database: { state: "ok" }, kms: { state: "ok" } },
      },
      503: {
        status: "degraded",
        time: "2026-12-02T17:13:01.537Z",
        dependencies: {
          database: { state: "ok" },
          kms: { state: "degraded", since: "2026-12-02T17:12:58.120Z", lastError: "TimeoutError" },
        },
      },
    },
  },
  createIssuer: {
    request: { name: "Acme Bank" },
    responses: { 201: { id: ISSUER, name: "Acme Bank", token: "kkn_iss_EXAMPLEexampleEXAMPLEexampleEXAMPLEexampl" } },
  },
  createAgent: {
    request: { name: "payments-bot" },
    responses: {
      201: {
        id: AGENT,
        name: "payments-bot",
        keyArn: KEY,
        certificate: {
          serial: SERIAL,
          pem: CERT_PEM,
          notBefore: "2026-12-02T17:13:02.000Z",
          notAfter: "2027-12-02T17:13:02.000Z",
        },
      },
    },
  },
  listAgents: { responses: { 200: { agents: [agent("fresh")] } } },
  getAgent: { responses: { 200: agent("fresh") } },
  rotateAgent: {
    responses: {
      200: {
        agent: agent("rotated"),
        rotation: {
          id: "rot_7aba5289c8a5d32fead8249b45915355",
          oldSerial: SERIAL,
          newSerial: NEW_SERIAL,
          newKeyArn: NEW_KEY,
          resumed: false,
        },
      },
    },
  },
  revokeAgent: {
    request: { reason: "keyCompromise" },
    responses: {
      200: {
        agent: agent("revoked"),
        revocation: {
          serial: NEW_SERIAL,
          reason: "keyCompromise",
          revokedAt: "2026-12-02T17:31:09.528Z",
          crlNumber: 2,
          resumed: false,
        },
      },
    },
  },
  createAgentToken: {
    responses: { 201: { token: "kkn_agt_EXAMPLEexampleEXAMPLEexampleEXAMPLEexampl", agent: AGENT } },
  },
  resumeAgentTokens: {
    responses: {
      200: {
        agent: AGENT,
        resumed: 1,
        tokenIds: ["tok_6f1d0c9b2e7a4a3c8b5d1e0f9a8b7c6d"],
        alerts: ["alr_3f0c6d2b9a81e4c7d5f60a12"],
      },
    },
  },
  getIssuerResponses: { responses: { 200: { suspendTokensOnCritical: false, signingRateLimit: null } } },
  setIssuerResponses: {
    request: { suspendTokensOnCritical: true, signingRateLimit: { perMinute: 120, burst: 20 } },
    responses: { 200: { suspendTokensOnCritical: true, signingRateLimit: { perMinute: 120, burst: 20 } } },
  },
  getCaCertificate: { responses: { 200: CA_PEM } },
  getCrlPem: { responses: { 200: CRL_PEM } },
  getCheckpointTimestamp: { responses: { 200: "(DER TimeStampResp bytes)" } },
  getTimestampedCheckpoint: {
    responses: {
      200: "kakunin.example/iss_e58b3f18df024250e02cce7200de60cb\n42\nqoDKDvJLMTm6TuPAkYqZc7s2LGzAZbKpkexqvnhlNEQ=\n",
    },
  },
  getPublicAgent: { responses: { 200: agent("fresh") } },
  getPublicCertificate: {
    responses: {
      200: {
        ...certificate(SERIAL, "active", KEY),
        role: "agent",
        agent: { id: AGENT, name: "payments-bot", issuer: { id: ISSUER, name: "Acme Bank" } },
      },
    },
  },
  getDirectory: {
    responses: {
      200: {
        format: "kakunin-directory/1",
        generatedAt: "2026-12-02T17:40:00.000Z",
        trustDomain: "kakunin.example",
        ca: {
          serial: "5968e136ca65861bc6a96509cc9eac2f",
          pem: CA_PEM,
          fingerprintSha256: "9d3f0c6b1e2a4d5f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f",
        },
        logSigner: {
          serial: LOG_SERIAL,
          keyArn: LOG_KEY,
          pem: CERT_PEM,
          status: "active",
          notBefore: "2026-12-01T09:00:00.000Z",
          notAfter: "2027-12-01T09:00:00.000Z",
        },
        crl: {
          number: 2,
          thisUpdate: "2026-12-02T17:31:09.000Z",
          nextUpdate: "2026-12-09T17:31:09.000Z",
          pem: CRL_PEM,
        },
        issuers: [{ id: ISSUER, name: "Acme Bank" }],
        agents: [agent("fresh")],
      },
    },
  },
  signOperation: {
    request: { payload: { action: "transfer", amount: "100.00" }, contentType: "application/json" },
    responses: {
      201: { format: "kakunin-receipt/1", entry: operationEntry, certificates: [CERT_PEM, CA_PEM], crl: CRL_PEM },
    },
  },
  listLogEntries: {
    responses: { 200: { issuer: ISSUER, size: 2, entries: [registeredEntry, operationEntry], next: null } },
  },
  getCheckpoint: { responses: { 200: checkpoint } },
  getPublicCheckpoint: { responses: { 200: checkpoint } },
  exportLog: {
    responses: {
      200:
        [
          {
            kind: "header",
            format: "kakunin-log/1",
            issuer: ISSUER,
            exportedAt: "2026-12-02T17:40:00.000Z",
            range: { from: 0, to: 1 },
            prevHash: ZERO_HASH,
            caCertificate: CA_PEM,
            payloads: false,
          },
          { kind: "certificate", serial: SERIAL, pem: CERT_PEM },
          { kind: "crl", pem: CRL_PEM },
          { kind: "entry", entry: registeredEntry },
          { kind: "entry", entry: operationEntry },
          { kind: "checkpoint", checkpoint },
        ]
          .map((line) => JSON.stringify(line))
          .join("\n") + "\n",
    },
  },
  listAlerts: {
    responses: {
      200: {
        alerts: [
          {
            id: "alr_3f0c6d2b9a81e4c7d5f60a12",
            time: "2026-12-02T17:45:12.031Z",
            issuerId: ISSUER,
            agentId: AGENT,
            keyArn: KEY,
            kind: "new-source-address",
            severity: "warning",
            summary: `agent ${AGENT} signed from a new source address 203.0.113.7`,
            evidence: { tokenId: "tok_8c1d2e3f4a5b6c7d", sourceAddress: "203.0.113.7", knownAddresses: 1 },
          },
        ],
        next: null,
      },
    },
  },
  rotateLogKey: {
    responses: {
      200: {
        status: "rotated",
        rotationId: "lkr_3f6c2a8e9b1d4c7e8f0a1b2c3d4e5f60",
        resumed: false,
        previous: {
          arn: "arn:aws:kms:eu-west-1:111122223333:key/0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
          vkey: "kakunin.example+5a1d3c0e+AdYtJRw1Hd2v8OdfVP6V2VQ0MZ1rY4I0mXqCz7uG1gTo",
        },
        next: {
          arn: "arn:aws:kms:eu-west-1:111122223333:key/9f8e7d6c-5b4a-3c2d-1e0f-a9b8c7d6e5f4",
          vkey: "kakunin.example+c27f0b44+AYwUJ5pJbDzxHBOU9CMfXl7TyjTQVbxeFa0Yt9s1WZ0n",
        },
      },
    },
  },
  reconcileKeyUsage: {
    responses: {
      200: {
        from: "2026-12-02T17:30:00.000Z",
        to: "2026-12-02T17:50:00.000Z",
        logFilesRead: 4,
        digestFilesSkipped: 0,
        kmsEvents: 212,
        signEvents: 207,
        matched: 206,
        unlogged: 1,
        pending: 0,
        refused: 0,
        unresolved: 0,
        foreign: 5,
        problems: [],
        alerts: [
          {
            id: "alr_9b2e71c04d5a6f38e1c2d7a0",
            time: "2026-12-02T17:50:00.412Z",
            issuerId: ISSUER,
            agentId: AGENT,
            keyArn: KEY,
            kind: "unlogged-signature",
            severity: "critical",
            summary: `KMS Sign on agent ${AGENT}'s key with no Kakunin log entry (request 5f0e2a7c-1b3d-4e6f-8a9b-0c1d2e3f4a5b)`,
            evidence: { requestId: "5f0e2a7c-1b3d-4e6f-8a9b-0c1d2e3f4a5b", sourceIPAddress: "198.51.100.23" },
          },
        ],
      },
    },
  },

  // Log v2 (C2SP tlog-checkpoint, tlog-tiles, signed notes; kakunin-receipt/2).
  listLogs: { responses: { 200: { logs: [{ issuer: ISSUER, origin: LOG_ORIGIN, size: 2 }] } } },
  getLogKeys: { responses: { 200: `${LOG_VKEY}\n` } },
  getLogCheckpointNote: { responses: { 200: CHECKPOINT_NOTE } },
  getLogTile: { responses: { 200: "(32 bytes per hash; entry bundles: uint16 length + leaf data per entry)" } },
  getInclusionProof: { responses: { 200: `${PROOF_HASH}\n${PROOF_HASH_2}\n` } },
  getConsistencyProof: { responses: { 200: `${PROOF_HASH}\n` } },
  getReceipt: {
    responses: {
      200: {
        format: "kakunin-receipt/2",
        entry: operationEntry,
        certificates: [CERT_PEM, CA_PEM],
        crl: CRL_PEM,
        proof: `c2sp.org/tlog-proof@v1\nindex 1\n${PROOF_HASH}\n\n${CHECKPOINT_NOTE}`,
      },
    },
  },
};
