/**
 * Log v2 publication (C2SP tlog-tiles, tlog-checkpoint, signed notes) and receipts v2:
 * `/v1/logs`, `/v1/logs/{issuer}/checkpoint`, `…/tile/…`, `…/proof/inclusion|consistency`,
 * `/v1/public/log-keys`, `/v1/log/entries/{seq}/receipt`. Validate → call the log (server/log/tree/)
 * → render; reads never wait on KMS.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authenticate, requireRole } from "../auth/middleware.js";
import type { AppDeps } from "../deps.js";
import { ForbiddenError, KmsUnavailableError, NotFoundError, ValidationError } from "../errors.js";
import type { AppEnv } from "../http/env.js";
import { bearerSecurity, errorResponses as E, publicErrorResponses as PE, router } from "../http/openapi.js";
import { DecimalInteger } from "../http/schemas.js";
import type { LogV2 } from "../log/tree/log-v2.js";
import { ProofRangeError } from "../log/tree/proofs.js";
import { stampedEntryProof } from "../log/receipt-timestamps.js";
import { MAX_RECEIPT_WAIT_MS, receiptV2, RECEIPT_V2_FORMAT } from "../log/tree/receipt-v2.js";
import { LogEntrySchema } from "../log/wire-schemas.js";
import { base64Encode, parseTilePath, VerificationError, type Tile } from "../../verifier/src/formats/index.js";

const IssuerParam = z
  .string()
  .regex(/^iss_[0-9a-f]{32}$/, "must be an issuer id (iss_…)")
  .openapi({ param: { name: "issuer", in: "path" }, example: "iss_e58b3f18df024250e02cce7200de60cb" });
const Size = DecimalInteger(0, Number.MAX_SAFE_INTEGER);
const text = (description: string) => ({
  description,
  content: { "text/plain; charset=utf-8": { schema: z.string() } },
});
const TEXT = "text/plain; charset=utf-8";
/** Full tiles never change; partial tiles and checkpoints are replaced as the tree grows. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const SHORT = "public, max-age=2";

const LogWitnessing = z
  .object({
    quorumMet: z.boolean().openapi({ description: "The latest checkpoint carries the witness quorum." }),
    cosigned: z.array(z.string()).openapi({ description: "Witnesses whose cosignature on it verifies." }),
    pendingWitnesses: z.array(z.string()).openapi({ description: "Configured witnesses without one." }),
    retry: z
      .object({
        size: z.number().int(),
        attempts: z.number().int().openapi({ description: "Rounds made so far (0: the first is under way)." }),
        since: z.string(),
        lastAttemptAt: z.string(),
        missing: z.array(z.string()),
      })
      .nullable()
      .openapi({
        description:
          "The checkpoint being re-sent to the witnesses it misses, with back-off (kept in the database: a restarted server resumes it); null when none.",
      }),
  })
  .openapi("LogWitnessing");

const logs = createRoute({
  operationId: "listLogs",
  summary: "Every issuer's log (origin, published size, witnessing)",
  description:
    "Every issuer log of this authority: its issuer id, its origin `<KAKUNIN_LOG_NAME>/<issuer id>` (the first line of its checkpoints and the name of its signed-note verifier key) and the size of its latest checkpoint (0 before the first). With witnesses configured (KAKUNIN_WITNESSES), `witnessing` says whether the latest checkpoint has its quorum, which witnesses are still missing, and the below-quorum checkpoint being retried, if any.",
  method: "get",
  path: "/v1/logs",
  tags: ["public"],
  responses: {
    200: {
      description: "The logs",
      content: {
        "application/json": {
          schema: z
            .object({
              logs: z.array(
                z.object({
                  issuer: z.string(),
                  origin: z.string(),
                  size: z.number().int(),
                  witnessing: LogWitnessing.optional(),
                }),
              ),
            })
            .openapi("LogList"),
        },
      },
    },
  },
});

const logKeys = createRoute({
  operationId: "getLogKeys",
  summary: "The logs' signed-note verifier keys",
  description:
    "One C2SP signed-note verifier key per line, `<origin>+<hex key id>+<base64(0x01 ‖ Ed25519 public key)>` (the key name is the log's origin): per issuer log, the current key first, then every older key a rotation retired (disabled in KMS, never deleted), newest first, so checkpoints and receipts signed before a rotation keep verifying. The current key is one Ed25519 key in KMS (`alias/kakunin/tlog`). Pin the lines of the log you check.",
  method: "get",
  path: "/v1/public/log-keys",
  tags: ["public"],
  responses: { 200: text("Verifier keys, one per line") },
});

const checkpoint = createRoute({
  operationId: "getLogCheckpointNote",
  summary: "The issuer log's latest checkpoint (C2SP signed note)",
  description:
    "The latest C2SP tlog-checkpoint (origin, size, base64 RFC 9162 root) of the issuer's Merkle tree as a signed note: the log key's Ed25519 signature first, then any cosignatures. Signed at most every KAKUNIN_CHECKPOINT_INTERVAL_MS while the tree grows; this read never waits on KMS. 404 before the first checkpoint. With witnesses configured (KAKUNIN_WITNESSES), the header `kakunin-witness-quorum: met|missing; cosigned=…[; missing=…]` says which of them have cosigned this note and whether that is the quorum (a checkpoint below it is published anyway and re-sent to the missing witnesses).",
  method: "get",
  path: "/v1/logs/{issuer}/checkpoint",
  tags: ["public"],
  request: { params: z.object({ issuer: IssuerParam }) },
  responses: { 200: text("Signed note"), ...PE },
});

const tile = createRoute({
  operationId: "getLogTile",
  summary: "A hash tile or entry bundle (C2SP tlog-tiles)",
  description:
    "`{tile}` is the rest of the path exactly as tlog-tiles encodes it: `<L>/<N>[.p/<W>]` (a hash tile: level-8·L tree hashes, 32 bytes each) or `entries/<N>[.p/<W>]` (an entry bundle: each entry's leaf data, FORMATS.md \"Merkle tree leaves\", after a big-endian uint16 length). Full tiles are immutable; partial tiles are short lived; a tile beyond the latest checkpoint is 404. Entry bundles need the issuer's token unless KAKUNIN_PUBLIC_ENTRIES=true.",
  method: "get",
  path: "/v1/logs/{issuer}/tile/{tile}",
  tags: ["public"],
  security: [{}, ...bearerSecurity],
  request: {
    params: z.object({
      issuer: IssuerParam,
      tile: z.string().openapi({ param: { name: "tile", in: "path" }, example: "0/000.p/5" }),
    }),
  },
  responses: {
    200: {
      description: "Tile bytes",
      content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
    },
    400: E[400],
    401: E[401],
    403: E[403],
    404: E[404],
  },
});

const inclusion = createRoute({
  operationId: "getInclusionProof",
  summary: "Inclusion proof of a leaf (RFC 9162 §2.1.3)",
  description:
    "The hashes proving leaf `index` is in the issuer's tree of `size` leaves: one base64 hash per line. 400 unless index < size; 404 if size is beyond the tree.",
  method: "get",
  path: "/v1/logs/{issuer}/proof/inclusion",
  tags: ["public"],
  request: {
    params: z.object({ issuer: IssuerParam }),
    query: z.object({
      index: Size.openapi({ param: { name: "index", in: "query" }, example: "3" }),
      size: Size.openapi({ param: { name: "size", in: "query" }, example: "8" }),
    }),
  },
  responses: { 200: text("Base64 hashes, one per line"), ...PE },
});

const consistency = createRoute({
  operationId: "getConsistencyProof",
  summary: "Consistency proof between two tree sizes (RFC 9162 §2.1.4)",
  description:
    "The hashes proving the tree of `to` leaves extends the tree of `from` leaves: one base64 hash per line (none when from is 0 or equals to). 400 unless from ≤ to; 404 if to is beyond the tree.",
  method: "get",
  path: "/v1/logs/{issuer}/proof/consistency",
  tags: ["public"],
  request: {
    params: z.object({ issuer: IssuerParam }),
    query: z.object({
      from: Size.openapi({ param: { name: "from", in: "query" }, example: "4" }),
      to: Size.openapi({ param: { name: "to", in: "query" }, example: "8" }),
    }),
  },
  responses: { 200: text("Base64 hashes, one per line"), ...PE },
});

const ReceiptV2Schema = z
  .object({
    format: z.literal(RECEIPT_V2_FORMAT),
    entry: LogEntrySchema,
    certificates: z.array(z.string()).openapi({ description: "[signer certificate PEM, CA certificate PEM]" }),
    crl: z.string().optional(),
    proof: z.string().openapi({
      description:
        "c2sp.org/tlog-proof@v1 text: index, inclusion proof and the covering checkpoint note verbatim with every signature (the smallest timestamped checkpoint covering the entry once there is one, else the latest)",
    }),
    timestamps: z.array(z.string()).optional().openapi({
      description:
        "base64 DER RFC 3161 TimeStampTokens whose imprint is SHA-256 of the checkpoint text in `proof`; absent until a TSA has timestamped a checkpoint covering the entry",
    }),
  })
  .openapi("ReceiptV2");

const receipt = createRoute({
  operationId: "getReceipt",
  summary: "The kakunin-receipt/2 of an entry (with its tlog proof)",
  description: `Every kakunin-receipt/1 member of entry \`seq\` plus \`proof\` (c2sp.org/tlog-proof@v1: index, inclusion proof, the checkpoint note verbatim). Needs the issuer's token, or the agent's own token for its entries. Available once a checkpoint covers the entry: \`?wait=N\` waits up to N seconds (at most ${MAX_RECEIPT_WAIT_MS / 1000}) for one; otherwise 404 ERR_RECEIPT_NOT_READY with Retry-After.`,
  method: "get",
  path: "/v1/log/entries/{seq}/receipt",
  tags: ["log"],
  security: bearerSecurity,
  middleware: [requireRole("issuer", "agent")],
  request: {
    params: z.object({ seq: Size.openapi({ param: { name: "seq", in: "path" }, example: "41" }) }),
    query: z.object({
      wait: DecimalInteger(0, MAX_RECEIPT_WAIT_MS / 1000)
        .optional()
        .openapi({ param: { name: "wait", in: "query" }, example: "5" }),
    }),
  },
  responses: {
    200: { description: "The receipt", content: { "application/json": { schema: ReceiptV2Schema } } },
    400: E[400],
    401: E[401],
    403: E[403],
    404: E[404],
  },
});

function logV2(deps: AppDeps): LogV2 {
  if (!deps.logV2) throw new KmsUnavailableError("log v2 is not running in this instance", 5);
  return deps.logV2;
}

/** Proof errors as problem+json: impossible sizes 400, beyond the tree 404. */
async function proofLines(make: () => Promise<Uint8Array[]>): Promise<string> {
  try {
    return (await make()).map((h) => `${base64Encode(h)}\n`).join("");
  } catch (e) {
    if (e instanceof ProofRangeError) {
      if (e.code === "ERR_BEYOND_TREE") throw new NotFoundError(e.message, e.code);
      throw new ValidationError(e.message, { code: e.code });
    }
    throw e;
  }
}

function parseTile(path: string): Tile {
  try {
    return parseTilePath(`tile/${path}`);
  } catch (e) {
    if (e instanceof VerificationError)
      throw new ValidationError(`not a tlog-tiles path: ${e.message}`, { field: "tile", code: "ERR_BAD_TILE_PATH" });
    throw e;
  }
}

async function serveTile(c: Context<AppEnv>) {
  const deps = c.get("deps");
  const issuer = c.req.param("issuer") ?? "";
  if (!/^iss_[0-9a-f]{32}$/.test(issuer))
    throw new ValidationError("must be an issuer id (iss_…)", { field: "issuer" });
  const t = parseTile(c.req.param("tile") ?? "");
  const v2 = logV2(deps);
  // A full hash tile served before is immutable and public: straight from memory (bench: tiles).
  const hit = v2.cachedFullTile(issuer, t);
  if (hit)
    return c.body(hit as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/octet-stream",
      "cache-control": IMMUTABLE,
    });
  await v2.requireLog(issuer);
  const secret = t.level === "entries" && !deps.config.publicEntries;
  if (secret) {
    const p = await authenticate(c);
    if (p.role !== "issuer" || p.issuerId !== issuer)
      throw new ForbiddenError("Entry bundles need this issuer's token (or KAKUNIN_PUBLIC_ENTRIES=true)");
  }
  const bytes =
    t.level === "entries" ? await v2.entryBundle(issuer, t) : await v2.hashTile(issuer, { ...t, level: t.level });
  if (!bytes) throw new NotFoundError("This tile is beyond the log's latest checkpoint", "ERR_TILE_NOT_FOUND");
  const cache = t.width === 256 ? IMMUTABLE : SHORT;
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
    "content-type": "application/octet-stream",
    "cache-control": secret ? cache.replace("public", "private") : cache,
  });
}

export function tlogRoutes() {
  const app = router();

  app.openapi(logs, async (c) => {
    const deps = c.get("deps");
    const v2 = logV2(deps);
    const list = await v2.logs();
    const witnessing = await deps.checkpointTrust?.witnessingOf(
      list,
      async (issuer) => (await v2.latestCheckpoint(issuer))?.note,
    );
    const out = list.map((l) => {
      const w = witnessing?.get(l.issuer);
      return w ? { ...l, witnessing: w } : l;
    });
    return c.json({ logs: out }, 200);
  });

  app.openapi(logKeys, async (c) => {
    const lines = await logV2(c.get("deps")).verifierKeys();
    return c.text(lines.map((l) => `${l}\n`).join(""), 200, {
      "content-type": TEXT,
      "cache-control": "public, max-age=300",
    });
  });

  app.openapi(checkpoint, async (c) => {
    const { issuer } = c.req.valid("param");
    const v2 = logV2(c.get("deps"));
    await v2.requireLog(issuer);
    const cp = await v2.latestCheckpoint(issuer);
    if (!cp) throw new NotFoundError(`No checkpoint of ${issuer}'s log is published yet`, "ERR_NO_CHECKPOINT");
    const quorum = await c.get("deps").checkpointTrust?.quorumHeader(cp.note);
    return c.text(cp.note, 200, {
      "content-type": TEXT,
      "cache-control": SHORT,
      ...(quorum ? { "kakunin-witness-quorum": quorum } : {}),
    });
  });

  // Documented as {tile}; routed with a multi-segment parameter (tile paths have several segments).
  app.openAPIRegistry.registerPath(tile);
  app.get("/v1/logs/:issuer/tile/:tile{.+}", serveTile);

  app.openapi(inclusion, async (c) => {
    const { issuer } = c.req.valid("param");
    const { index, size } = c.req.valid("query");
    const v2 = logV2(c.get("deps"));
    await v2.requireLog(issuer);
    const body = await proofLines(() => v2.proofs.inclusionProof(issuer, index, size));
    return c.text(body, 200, { "content-type": TEXT, "cache-control": IMMUTABLE });
  });

  app.openapi(consistency, async (c) => {
    const { issuer } = c.req.valid("param");
    const { from, to } = c.req.valid("query");
    const v2 = logV2(c.get("deps"));
    await v2.requireLog(issuer);
    const body = await proofLines(() => v2.proofs.consistencyProof(issuer, from, to));
    return c.text(body, 200, { "content-type": TEXT, "cache-control": IMMUTABLE });
  });

  app.openapi(receipt, async (c) => {
    const deps = c.get("deps");
    const p = c.get("principal");
    if (!deps.log || p.role === "operator") throw new ForbiddenError();
    const { seq } = c.req.valid("param");
    const { wait } = c.req.valid("query");
    try {
      const r = await receiptV2(deps.log, logV2(deps), p.issuerId, seq, {
        ...(p.role === "agent" ? { agentId: p.agentId } : {}),
        waitMs: (wait ?? 0) * 1000,
        ...(deps.checkpointTrust
          ? { stamped: (s: number) => stampedEntryProof(deps.checkpointTrust!, logV2(deps), p.issuerId, s) }
          : {}),
      });
      return c.json(r as z.infer<typeof ReceiptV2Schema>, 200);
    } catch (e) {
      if (e instanceof NotFoundError && e.code === "ERR_RECEIPT_NOT_READY") c.header("retry-after", "1");
      throw e;
    }
  });

  return app;
}
