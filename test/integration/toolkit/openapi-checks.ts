/**
 * The two outside checks an OpenAPI document must pass: Spectral's `spectral:oas` ruleset (the
 * linter API tooling runs) and the official OpenAPI 3.1 JSON schema (@seriousme/openapi-schema-validator).
 */
import spectralCore from "@stoplight/spectral-core";
import { oas } from "@stoplight/spectral-rulesets";
import spectralParsers from "@stoplight/spectral-parsers";
import { Validator } from "@seriousme/openapi-schema-validator";

const { Document, Spectral } = spectralCore;

export interface LintFinding {
  code: string;
  severity: "error" | "warning" | "info" | "hint";
  path: string;
  message: string;
}

const SEVERITY = ["error", "warning", "info", "hint"] as const;

/** Every finding of `spectral:oas` (all severities) on `doc`. */
export async function spectralOas(doc: unknown): Promise<LintFinding[]> {
  const spectral = new Spectral();
  spectral.setRuleset(oas as spectralCore.RulesetDefinition);
  const results = await spectral.run(new Document(JSON.stringify(doc, null, 2), spectralParsers.Json, "openapi.json"));
  return results.map((r) => ({
    code: String(r.code),
    severity: SEVERITY[r.severity] ?? "error",
    path: r.path.join("."),
    message: r.message,
  }));
}

/** Errors of the OpenAPI JSON schema for the document's version (empty when valid). */
export async function openApiSchemaErrors(doc: unknown): Promise<{ version: string; errors: unknown[] }> {
  const validator = new Validator();
  const res = await validator.validate(structuredClone(doc) as Parameters<Validator["validate"]>[0]);
  return { version: validator.version, errors: res.valid ? [] : ([] as unknown[]).concat(res.errors ?? ["invalid"]) };
}
