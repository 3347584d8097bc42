/** The full-tile cache: only full hash tiles, per issuer, bounded with the least recently used out. */
import { describe, expect, it } from "vitest";
import { FullTileCache } from "../../../../server/log/tree/tile-cache.js";

const bytes = (n: number) => new Uint8Array(8192).fill(n);

describe("FullTileCache", () => {
  it("keeps full hash tiles per issuer, never partial tiles or entry bundles", () => {
    const c = new FullTileCache(8);
    c.set("iss_a", { level: 0, index: 0, width: 256 }, bytes(1));
    c.set("iss_a", { level: 0, index: 1, width: 44 }, bytes(2));
    c.set("iss_a", { level: "entries", index: 0, width: 256 }, bytes(3));
    expect(c.get("iss_a", { level: 0, index: 0, width: 256 })?.[0]).toBe(1);
    expect(c.get("iss_b", { level: 0, index: 0, width: 256 })).toBeUndefined();
    expect(c.get("iss_a", { level: 1, index: 0, width: 256 })).toBeUndefined();
    expect(c.get("iss_a", { level: 0, index: 1, width: 44 })).toBeUndefined();
    expect(c.get("iss_a", { level: "entries", index: 0, width: 256 })).toBeUndefined();
  });

  it("drops the least recently used tile past its bound", () => {
    const c = new FullTileCache(2);
    const t = (index: number) => ({ level: 0, index, width: 256 });
    c.set("iss_a", t(0), bytes(0));
    c.set("iss_a", t(1), bytes(1));
    expect(c.get("iss_a", t(0))).toBeDefined(); // 0 is now the most recent
    c.set("iss_a", t(2), bytes(2));
    expect(c.get("iss_a", t(1))).toBeUndefined();
    expect(c.get("iss_a", t(0))?.[0]).toBe(0);
    expect(c.get("iss_a", t(2))?.[0]).toBe(2);
  });
});
