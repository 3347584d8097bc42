import { validation } from "./errors.js";

/**
 * Marker-based paging over a list sorted by a unique string key. The marker is an opaque
 * token naming the last item returned, so inserts between pages do not shift results.
 */
export function page<T>(
  items: T[],
  keyOf: (item: T) => string,
  limit: number,
  marker: string | undefined,
): { items: T[]; truncated: boolean; nextMarker?: string } {
  let start = 0;
  if (marker !== undefined) {
    const after = decodeMarker(marker);
    start = items.findIndex((item) => keyOf(item) > after);
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + limit);
  const truncated = start + limit < items.length;
  return truncated
    ? { items: slice, truncated, nextMarker: encodeMarker(keyOf(slice[slice.length - 1]!)) }
    : { items: slice, truncated };
}

function encodeMarker(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString("base64url");
}

function decodeMarker(marker: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(marker, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof parsed.after === "string") return parsed.after;
  } catch {
    // fall through
  }
  throw validation("Invalid marker");
}
