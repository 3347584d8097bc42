/**
 * The OpenAPI document a real server process serves passes the checks other tools apply:
 * Spectral's `spectral:oas` ruleset with no finding at all, and the OpenAPI 3.1 JSON schema.
 * Each check is also shown to fail on a document broken the way the issue found it broken.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { openApiSchemaErrors, spectralOas } from "./openapi-checks.js";

type Operation = {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  requestBody?: { content?: Record<string, { example?: unknown }> };
  responses?: Record<string, { content?: Record<string, { example?: unknown }> }>;
  parameters?: { name: string; in: string; required?: boolean }[];
};
type Doc = { openapi: string; tags?: { name: string }[]; paths: Record<string, Record<string, Operation>> };

let kms: LocalKms;
let server: RunningServer;
let doc: Doc;

function operations(d: Doc): [string, Operation][] {
  return Object.entries(d.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([m, op]) => [`${m.toUpperCase()} ${path}`, op] as [string, Operation]),
  );
}

beforeAll(async () => {
  kms = await startLocalKms();
  server = await startServer({ kmsEndpoint: kms.endpoint });
  const res = await fetch(`${server.url}/openapi.json`);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  doc = (await res.json()) as Doc;
});

afterAll(async () => {
  await server?.stop();
  await kms?.stop();
});

describe("GET /openapi.json", () => {
  it("has no Spectral spectral:oas finding (errors, warnings, infos or hints)", async () => {
    const findings = await spectralOas(doc);
    expect(findings.map((f) => `${f.severity} ${f.code} at ${f.path}: ${f.message}`)).toEqual([]);
  });

  it("is valid against the OpenAPI 3.1 JSON schema", async () => {
    const { version, errors } = await openApiSchemaErrors(doc);
    expect(version).toBe("3.1");
    expect(errors).toEqual([]);
  });

  it("gives every operation a unique operationId, a summary, a description and declared tags", () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(20);
    const declared = new Set((doc.tags ?? []).map((t) => t.name));
    const ids = ops.map(([, op]) => op.operationId);
    expect(new Set(ids).size).toBe(ops.length);
    for (const [where, op] of ops) {
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.summary?.length, where).toBeGreaterThan(0);
      expect(op.description?.length, where).toBeGreaterThan(20);
      expect(op.tags?.length, where).toBeGreaterThan(0);
      for (const t of op.tags ?? []) expect(declared.has(t), `${where} tag ${t}`).toBe(true);
    }
  });

  it("gives every JSON request body and every non-binary success and error response an example", () => {
    for (const [where, op] of operations(doc)) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {}))
        expect(media.example, `${where} request ${type}`).toBeDefined();
      for (const [status, res] of Object.entries(op.responses ?? {})) {
        for (const [type, media] of Object.entries(res.content ?? {})) {
          if (type === "application/pkix-crl") continue; // DER bytes: no meaningful JSON example
          expect(media.example, `${where} ${status} ${type}`).toBeDefined();
        }
      }
    }
  });

  it("marks every path parameter required", () => {
    for (const [where, op] of operations(doc)) {
      for (const p of op.parameters ?? []) if (p.in === "path") expect(p.required, `${where} ${p.name}`).toBe(true);
    }
  });
});

describe("the checks catch the defects the issue reported", () => {
  it("an optional path parameter fails both Spectral and the 3.1 schema", async () => {
    const broken = structuredClone(doc);
    delete broken.paths["/v1/log/entries/{seq}/payload"]!.delete!.parameters![0]!.required;
    expect((await openApiSchemaErrors(broken)).errors.length).toBeGreaterThan(0);
    expect((await spectralOas(broken)).map((f) => f.code)).toContain("path-params");
  });

  it("a missing operationId, a missing description, an undeclared tag and a wrong example are reported", async () => {
    const broken = structuredClone(doc);
    const op = broken.paths["/v1/agents"]!.post!;
    delete op.operationId;
    delete op.description;
    op.tags = ["undeclared"];
    op.requestBody!.content!["application/json"]!.example = { name: 42 };
    const codes = (await spectralOas(broken)).map((f) => f.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        "operation-operationId",
        "operation-description",
        "operation-tag-defined",
        "oas3-valid-media-example",
      ]),
    );
  });
});
