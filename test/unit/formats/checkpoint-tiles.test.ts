/** tlog-checkpoint bodies and tlog-tiles paths, maths and bundles, against the specs' examples. */
import { describe, expect, it } from "vitest";
import {
  TILE_WIDTH,
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTileIndex,
  formatCheckpoint,
  parseCheckpoint,
  parseNote,
  parseTilePath,
  tileNodes,
  tilePath,
  tilesForSize,
} from "../../../verifier/src/formats/index.js";

const SPEC_CHECKPOINT =
  "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

describe("tlog-checkpoint", () => {
  it("parses the spec's example and formats it back byte for byte", () => {
    const note = parseNote(SPEC_CHECKPOINT);
    const c = parseCheckpoint(note.text);
    expect(c.origin).toBe("example.com/behind-the-sofa");
    expect(c.size).toBe(20852163);
    expect(c.extensions).toEqual([]);
    expect(formatCheckpoint(c)).toBe(note.text);
    expect(formatCheckpoint({ ...c, extensions: ["ext one"] })).toBe(`${note.text}ext one\n`);
  });

  it("attacker: refuses leading zeroes, signs, short or non-canonical roots, empty lines", () => {
    const root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    for (const text of [
      `o\n020852163\n${root}\n`,
      `o\n+5\n${root}\n`,
      `o\n-1\n${root}\n`,
      `o\n 5\n${root}\n`,
      `o\n99999999999999999999\n${root}\n`,
      `o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n`, // non-zero padding bits
      `o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n`,
      `\n5\n${root}\n`,
      `o\n5\n${root}\n\next\n`,
      `o\n5\n${root}`,
      `o\n5\n`,
    ]) {
      expect(() => parseCheckpoint(text), JSON.stringify(text)).toThrow();
    }
    expect(parseCheckpoint(`o\n0\n${root}\n`).size).toBe(0);
  });
});

describe("tlog-tiles", () => {
  it("encodes indices and paths as the spec does", () => {
    expect(encodeTileIndex(1234067)).toBe("x001/x234/067");
    expect(encodeTileIndex(0)).toBe("000");
    expect(encodeTileIndex(1000)).toBe("x001/000");
    expect(tilePath({ level: 0, index: 1234067, width: TILE_WIDTH })).toBe("tile/0/x001/x234/067");
    expect(tilePath({ level: 2, index: 5, width: 17 })).toBe("tile/2/005.p/17");
    expect(tilePath({ level: "entries", index: 273, width: 112 })).toBe("tile/entries/273.p/112");
    for (const t of [
      { level: 0, index: 1234067, width: 256 },
      { level: 63, index: 0, width: 1 },
      { level: "entries" as const, index: 999, width: 255 },
    ]) {
      expect(parseTilePath(tilePath(t))).toEqual(t);
    }
  });

  it("refuses non-canonical tile paths", () => {
    for (const p of [
      "tile/00/000",
      "tile/64/000",
      "tile/0/1",
      "tile/0/0001",
      "tile/0/x000/001",
      "tile/0/001/002",
      "tile/0/000.p/0",
      "tile/0/000.p/256",
      "tile/0/000.p/012",
      "tile/0/000.p/",
      "tile/0/../000",
      "tile/entries/x1/000",
      "tile/0/000/",
    ]) {
      expect(() => parseTilePath(p), p).toThrow();
    }
  });

  it("a tree of 70,000 is the spec's tiles: 273 full + width 112 at L0, 1 full + width 17 at L1, width 1 at L2", () => {
    const tiles = tilesForSize(70_000).filter((t) => t.level !== "entries");
    const at = (l: number) => tiles.filter((t) => t.level === l);
    expect(at(0).filter((t) => t.width === 256)).toHaveLength(273);
    expect(at(0).at(-1)).toEqual({ level: 0, index: 273, width: 112 });
    expect(at(1)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
    ]);
    expect(at(2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(tiles).toHaveLength(277);
    expect(tilesForSize(256).filter((t) => t.level !== "entries")).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(tilesForSize(0)).toEqual([]);
    expect(tileNodes({ level: 1, index: 1, width: 2 })).toEqual([
      { level: 8, index: 256 },
      { level: 8, index: 257 },
    ]);
  });

  it("entry bundles round-trip and refuse truncation", () => {
    const entries = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(7)];
    const b = encodeEntryBundle(entries);
    expect(Array.from(b.subarray(0, 7))).toEqual([0, 0, 0, 3, 1, 2, 3]);
    expect(decodeEntryBundle(b)).toEqual(entries);
    expect(() => decodeEntryBundle(b.subarray(0, b.length - 1))).toThrow();
    expect(() => decodeEntryBundle(new Uint8Array([0]))).toThrow();
    expect(() => encodeEntryBundle([new Uint8Array(65536)])).toThrow();
  });
});
