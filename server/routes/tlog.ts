/**
 * Log v2 publication (issue 15), read-only and public, per issuer under
 * /v1/public/issuers/{id}/tlog/: the checkpoint verifier key, the C2SP signed-note checkpoint and
 * the C2SP tlog-tiles hash tiles and entry bundles. Reads never wait on KMS: the checkpoint served
 * is the latest one stored by the publisher (server/log/tree/checkpoint-publisher.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Kysely } from "kysely";
import { authenticate } from "../auth/middleware.js";
import type { AppDeps } from "../deps.js";
import { ForbiddenError, KmsUnavailableError, NotFoundError, ValidationError } from "../errors.js";
import { bearerSecurity, errorResponses as E, publicErrorResponses as PE, router } from "../http/openapi.js";
import { checkpointVerifierKey } from "../log/tree/log-key.js";
import { TreeNodeStore, type TreeTables } from "../log/tree/node-store.js";
import { encodeEntryBundle, entryLeafData, NoteFormatError, parseTilePath, tileNodes, TILE_WIDTH, type Tile } from "../../verifier/src/formats/index.js";

const IssuerParam = z.string().regex(/^iss_[0-9a-f]{32}$/, "must be an issuer id (iss_…)").openapi({ param: { name: "id", in: "path" } });
const text = (description: string) => ({ description, content: { "text/plain; charset=utf-8": { schema: z.string() } } });

const vkey = createRoute({
  operationId: "getLogVerifierKey",
  summary: "The issuer log's checkpoint verifier key (signed-note vkey)",
  description: "The C2SP signed-note verifier key of the issuer's log v2 checkpoints, `<origin>+<hex key id>+<base64(0x01 ‖ Ed25519 key)>`, where the origin is `<KAKUNIN_LOG_NAME>/<issuer id>`. Pin it to verify checkpoints. The key lives in KMS (ECC_NIST_EDWARDS25519).",
  method: "get", path: "/{id}/tlog/vkey", tags: ["public"],
  request: { params: z.object({ id: IssuerParam }) },
  responses: { 200: text("The verifier key, one line"), ...PE },
});

const checkpoint = createRoute({
  operationId: "getLogCheckpoint",
  summary: "The issuer log's latest checkpoint (C2SP signed note)",
  description: "The latest C2SP tlog-checkpoint of the issuer's Merkle tree (origin, size, base64 RFC 9162 root) as a signed note with one Ed25519 signature by the checkpoint key (verify it with `tlog/vkey`). A new one is signed at most every KAKUNIN_CHECKPOINT_INTERVAL_MS while the tree grows; this read never waits on KMS. 404 before the first checkpoint.",
  method: "get", path: "/{id}/tlog/checkpoint", tags: ["public"],
  request: { params: z.object({ id: IssuerParam }) },
  responses: { 200: text("Signed note: checkpoint body, blank line, signature line"), ...PE },
});

const tile = createRoute({
  operationId: "getLogTile",
  summary: "A hash tile or entry bundle of the issuer's log (C2SP tlog-tiles)",
  description: "`{tile}` is the rest of the path as tlog-tiles encodes it and may span several segments: `<L>/<N>[.p/<W>]` for a hash tile (the level-8·L tree hashes, 32 bytes each) or `entries/<N>[.p/<W>]` for an entry bundle (each entry's leaf data, FORMATS.md \"Merkle tree leaves\", with a big-endian uint16 length). Tiles are immutable (long cache). A tile beyond the integrated tree is 404. Entry bundles need the issuer's token unless KAKUNIN_PUBLIC_ENTRIES=true.",
  method: "get", path: "/{id}/tlog/tile/{tile}", tags: ["public"],
  security: [{}, ...bearerSecurity],
  request: { params: z.object({ id: IssuerParam, tile: z.string().openapi({ param: { name: "tile", in: "path" }, example: "0/000.p/5" }) }) },
  responses: {
    200: { description: "Tile bytes", content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    400: E[400], 401: E[401], 403: E[403], 404: E[404],
  },
});

const IMMUTABLE = "public, max-age=31536000, immutable";

/** Is tile `t` inside a tree of `size` leaves? Its last hash covers leaves up to (N·256 + W)·256^L. */
function tileWithin(t: Tile, size: number): boolean {
  const level = t.level === "entries" ? 0 : t.level;
  return (BigInt(t.index) * BigInt(TILE_WIDTH) + BigInt(t.width)) * BigInt(TILE_WIDTH) ** BigInt(level) <= BigInt(size);
}

async function tileBytes(deps: AppDeps, issuerId: string, t: Tile): Promise<Uint8Array> {
  const db = deps.db as unknown as Kysely<TreeTables>;
  if (t.level !== "entries") {
    const hashes = await new TreeNodeStore(db, issuerId).readNodes(tileNodes(t));
    const out = new Uint8Array(hashes.length * 32);
    hashes.forEach((h, i) => out.set(h, i * 32));
    return out;
  }
  const from = t.index * TILE_WIDTH;
  const rows = await db.selectFrom("entries").select(["seq", "body"]).where("issuer_id", "=", issuerId)
    .where("seq", ">=", from).where("seq", "<", from + t.width).orderBy("seq").execute();
  if (rows.length !== t.width) throw new Error(`entries ${from}..${from + t.width - 1} of ${issuerId} are incomplete`);
  return encodeEntryBundle(rows.map((r) => entryLeafData(JSON.parse(r.body) as Record<string, unknown>)));
}

async function requireIssuer(deps: AppDeps, id: string): Promise<void> {
  const issuer = await deps.db.selectFrom("issuers").select("id").where("id", "=", id).executeTakeFirst();
  if (!issuer) throw new NotFoundError(`Issuer ${id} not found`, "ERR_ISSUER_NOT_FOUND");
}

export function tlogRoutes() {
  const app = router();

  app.openapi(vkey, async (c) => {
    const deps = c.get("deps");
    const { id } = c.req.valid("param");
    await requireIssuer(deps, id);
    const line = await checkpointVerifierKey(deps.config.logName, id, deps.checkpointKey);
    return c.text(`${line}\n`, 200, { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=300" });
  });

  app.openapi(checkpoint, async (c) => {
    const deps = c.get("deps");
    const { id } = c.req.valid("param");
    await requireIssuer(deps, id);
    const publisher = deps.log?.treeCheckpoints;
    if (!publisher) throw new KmsUnavailableError("log v2 checkpoints are not published by this instance", 5);
    const note = await publisher.latest(id);
    if (!note) throw new NotFoundError(`No checkpoint of ${id}'s log is published yet`, "ERR_NO_CHECKPOINT");
    return c.text(note, 200, { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=2" });
  });

  // Documented as {tile}; routed with a multi-segment parameter, since tile paths have several segments.
  app.openAPIRegistry.registerPath(tile);
  app.get("/:id/tlog/tile/:tile{.+}", async (c) => {
    const deps = c.get("deps");
    const id = c.req.param("id");
    if (!/^iss_[0-9a-f]{32}$/.test(id)) throw new ValidationError("must be an issuer id (iss_…)", { field: "id" });
    let t: Tile;
    try {
      t = parseTilePath(`tile/${c.req.param("tile")}`);
    } catch (e) {
      if (e instanceof NoteFormatError) throw new ValidationError(`not a tlog-tiles path: ${e.message}`, { field: "tile", code: "ERR_BAD_TILE_PATH" });
      throw e;
    }
    await requireIssuer(deps, id);
    if (t.level === "entries" && !deps.config.publicEntries) {
      const p = await authenticate(c);
      if (p.role !== "issuer" || p.issuerId !== id) throw new ForbiddenError("Entry bundles need this issuer's token (or KAKUNIN_PUBLIC_ENTRIES=true)");
    }
    const head = await new TreeNodeStore(deps.db as unknown as Kysely<TreeTables>, id).head();
    if (!tileWithin(t, head?.size ?? 0)) throw new NotFoundError("This tile is beyond the log's tree", "ERR_TILE_NOT_FOUND");
    const bytes = await tileBytes(deps, id, t);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "content-type": "application/octet-stream", "cache-control": t.level === "entries" && !deps.config.publicEntries ? "private, max-age=31536000, immutable" : IMMUTABLE });
  });

  return app;
}
