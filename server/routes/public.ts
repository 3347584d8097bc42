import { createRoute, z } from "@hono/zod-openapi";
import { readDirectory } from "../authority/directory.js";
import { caCertificate, currentCrl, publicAgentView, publicCertificateView } from "../authority/public-records.js";
import { pemEncode } from "@kakunin/verifier/formats";
import { fingerprintSha256 } from "../ca/authority.js";
import { publicErrorResponses as E, router } from "../http/openapi.js";
import { AgentId, AgentView, PublicCertificateView, Serial } from "../http/schemas.js";

const text = (type: string, description: string) => ({ description, content: { [type]: { schema: z.string() } } });
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const CACHE = "public, max-age=60";

const caPem = createRoute({
  operationId: "getCaCertificate",
  description:
    "The CA certificate every agent and log-signer certificate chains to. Pin it (or its SHA-256 fingerprint) when verifying offline.",
  method: "get",
  path: "/ca.pem",
  tags: ["public"],
  summary: "CA certificate (PEM)",
  responses: { 200: text("application/x-pem-file", "CA certificate") },
});
const crlDer = createRoute({
  operationId: "getCrl",
  description: "The latest CRL signed by the CA, DER-encoded (RFC 5280). 404 until the first CRL is published.",
  method: "get",
  path: "/crl",
  tags: ["public"],
  summary: "Current CRL (DER)",
  responses: {
    200: {
      description: "CRL",
      content: { "application/pkix-crl": { schema: z.string().openapi({ format: "binary" }) } },
    },
    404: E[404],
  },
});
const crlPem = createRoute({
  operationId: "getCrlPem",
  description: "The latest CRL as PEM (label X509 CRL). 404 until the first CRL is published.",
  method: "get",
  path: "/crl.pem",
  tags: ["public"],
  summary: "Current CRL (PEM, label X509 CRL)",
  responses: { 200: text("application/x-pem-file", "CRL"), 404: E[404] },
});
const agent = createRoute({
  operationId: "getPublicAgent",
  description:
    "Public view of one agent: its certificates (PEM), their statuses and dates, and key states. No token needed.",
  method: "get",
  path: "/agents/{id}",
  tags: ["public"],
  summary: "An agent's certificates, statuses, key states and dates",
  request: { params: z.object({ id: AgentId.openapi({ param: { name: "id", in: "path" } }) }) },
  responses: { 200: json(AgentView, "Agent"), ...E },
});
const certificate = createRoute({
  operationId: "getPublicCertificate",
  description:
    "Any certificate Kakunin issued (agent, CA or log signer) by its lowercase hex serial, with its status and, for agents, the owner.",
  method: "get",
  path: "/certificates/{serial}",
  tags: ["public"],
  summary: "A certificate by serial (lowercase hex)",
  request: { params: z.object({ serial: Serial.openapi({ param: { name: "serial", in: "path" } }) }) },
  responses: { 200: json(PublicCertificateView, "Certificate"), ...E },
});

const Directory = z
  .object({
    format: z.literal("kakunin-directory/1"),
    generatedAt: z.string(),
    trustDomain: z.string(),
    ca: z.object({
      serial: z.string(),
      pem: z.string(),
      fingerprintSha256: z.string().openapi({ description: "lowercase hex SHA-256 of the CA certificate DER" }),
    }),
    logSigner: z.object({
      serial: z.string(),
      keyArn: z.string(),
      pem: z.string(),
      status: z.string(),
      notBefore: z.string(),
      notAfter: z.string(),
    }),
    crl: z
      .object({ number: z.number().int(), thisUpdate: z.string(), nextUpdate: z.string(), pem: z.string() })
      .nullable(),
    issuers: z.array(z.object({ id: z.string(), name: z.string() })),
    agents: z.array(AgentView),
  })
  .openapi("Directory");
const directory = createRoute({
  operationId: "getDirectory",
  description:
    "One document with the CA, the log signer, the latest CRL, all issuers and all agents: what the static regulator portal is built from.",
  method: "get",
  path: "/directory",
  tags: ["public"],
  summary: "Everything the static portal needs, one document",
  responses: { 200: json(Directory, "Directory") },
});

export function publicRoutes() {
  const app = router();

  app.openapi(caPem, async (c) => {
    const { der } = await caCertificate(c.get("deps"));
    return c.body(pemEncode(der, "CERTIFICATE"), 200, {
      "content-type": "application/x-pem-file",
      "cache-control": CACHE,
    });
  });

  app.openapi(crlDer, async (c) => {
    const crl = await currentCrl(c.get("deps"));
    return c.body(new Uint8Array(crl.der), 200, { "content-type": "application/pkix-crl", "cache-control": CACHE });
  });

  app.openapi(crlPem, async (c) => {
    const crl = await currentCrl(c.get("deps"));
    return c.body(pemEncode(crl.der, "X509 CRL"), 200, {
      "content-type": "application/x-pem-file",
      "cache-control": CACHE,
    });
  });

  app.openapi(agent, async (c) => {
    const view = await publicAgentView(c.get("deps"), c.req.valid("param").id);
    return c.json(view, 200);
  });

  app.openapi(certificate, async (c) => {
    const view = await publicCertificateView(c.get("deps"), c.req.valid("param").serial);
    return c.json(view, 200);
  });

  app.openapi(directory, async (c) => {
    const deps = c.get("deps");
    const { ca, logSigner: log, crl, issuers, agents } = await readDirectory(deps);
    return c.json(
      {
        format: "kakunin-directory/1" as const,
        generatedAt: deps.now().toISOString(),
        trustDomain: deps.config.trustDomain,
        ca: { serial: ca.serial, pem: pemEncode(ca.der, "CERTIFICATE"), fingerprintSha256: fingerprintSha256(ca.der) },
        logSigner: {
          serial: deps.logSigner.certSerial,
          keyArn: deps.logSigner.keyArn,
          pem: deps.logSigner.certificatePem,
          status: log?.status ?? "active",
          notBefore: log?.notBefore ?? "",
          notAfter: log?.notAfter ?? "",
        },
        crl: crl
          ? {
              number: Number(crl.number),
              thisUpdate: crl.this_update,
              nextUpdate: crl.next_update,
              pem: pemEncode(crl.der, "X509 CRL"),
            }
          : null,
        issuers,
        agents,
      },
      200,
    );
  });

  return app;
}
