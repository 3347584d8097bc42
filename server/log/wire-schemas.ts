/**
 * zod/OpenAPI schemas of the audit log's wire formats. The types are defined once, in
 * `@kakunin/verifier/formats` (wire.ts); test/unit/formats/wire-schemas.test.ts fails to typecheck
 * when `z.infer` of a schema here and its formats type stop being assignable both ways.
 */
import { z } from "@hono/zod-openapi";
import { ENTRY_ALG, RECEIPT_FORMAT } from "@kakunin/verifier/formats";

const Hash = z.string().regex(/^[0-9a-f]{64}$/);
export const SignerRefSchema = z
  .object({ cert: z.string(), key: z.string(), alg: z.literal(ENTRY_ALG) })
  .openapi("SignerRef");

export const LogEntrySchema = z
  .object({
    v: z.literal(1),
    seq: z.number().int(),
    time: z.string(),
    type: z.string().openapi({ example: "agent.operation" }),
    issuer: z.string(),
    agent: z.string(),
    signer: SignerRefSchema,
    payloadHash: Hash,
    prevHash: Hash,
    details: z.record(z.string(), z.unknown()).optional(),
    hash: Hash,
    sig: z.string().openapi({
      description: "base64 RSASSA-PSS (SHA-256, salt 32) over the entry's RFC 8785 bytes without hash and sig",
    }),
  })
  .openapi("LogEntry");

export const CheckpointSchema = z
  .object({
    issuer: z.string(),
    size: z.number().int(),
    head: Hash,
    time: z.string(),
    signer: SignerRefSchema,
    sig: z.string(),
  })
  .openapi("Checkpoint");

export const ReceiptSchema = z
  .object({
    format: z.literal(RECEIPT_FORMAT),
    entry: LogEntrySchema,
    certificates: z.array(z.string()).openapi({ description: "[agent certificate PEM, CA certificate PEM]" }),
    crl: z.string().optional(),
    checkpoint: CheckpointSchema.optional(),
  })
  .openapi("Receipt");
