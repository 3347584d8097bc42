/** The fork guard's log v2 archive (server/log/fork-guard/tree-archive.ts): the baseline rule, and its files beside the v1 archive. */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ForkArchive } from "../../../../server/log/fork-guard/archive.js";
import {
  TreeArchive,
  treeBaselineOf,
  type ArchivedTreeCheckpoint,
  type TreeForkAcknowledgement,
} from "../../../../server/log/fork-guard/tree-archive.js";

const note = (size: number) => `log.example/iss_1\n${size}\nr${size}=\n\n— log.example/iss_1 AAAA\n`;
const cp = (size: number): ArchivedTreeCheckpoint => ({
  kind: "tree-checkpoint",
  issuer: "iss_1",
  origin: "log.example/iss_1",
  size,
  root: `r${size}=`,
  time: "2026-12-03T10:00:00.000Z",
  note: note(size),
});
const ack = (size: number): TreeForkAcknowledgement => ({
  kind: "fork-acknowledged",
  issuer: "iss_1",
  time: "2026-12-03T10:00:00.000Z",
  abandoned: null,
  resumedAt: { size, root: `a${size}=` },
  reason: "test",
});

describe("treeBaselineOf", () => {
  it("is the largest archived note, with the note and origin (the evidence of what was published)", () => {
    expect(treeBaselineOf([cp(3), cp(9), cp(5)])).toEqual({
      size: 9,
      root: "r9=",
      from: "checkpoint",
      note: note(9),
      origin: "log.example/iss_1",
    });
    expect(treeBaselineOf([])).toBeUndefined();
  });

  it("after an acknowledgement, only what follows it counts, starting from its resumedAt (no note)", () => {
    expect(treeBaselineOf([cp(10), ack(4)])).toEqual({ size: 4, root: "a4=", from: "acknowledgement" });
    expect(treeBaselineOf([cp(10), ack(4), cp(3), cp(6)])).toMatchObject({ size: 6, from: "checkpoint" });
  });

  it("ignores v1 records and records without a note", () => {
    const v1 = { issuer: "iss_1", size: 50, head: "h", time: "" } as unknown as ArchivedTreeCheckpoint;
    const noNote = { ...cp(40), note: undefined } as unknown as ArchivedTreeCheckpoint;
    expect(treeBaselineOf([cp(2), v1, noNote])).toMatchObject({ size: 2 });
  });
});

describe("TreeArchive", () => {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-tree-archive-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps its files in tree/ (0600 in 0700), out of the v1 archive's issuers and baselines", async () => {
    const v1 = new ForkArchive(dir);
    const tree = new TreeArchive(dir);
    await v1.append("iss_1", { issuer: "iss_1", size: 2, head: "h2", time: "" });
    for (let i = 1; i <= 20; i++) await tree.append("iss_1", cp(i));
    await tree.append("iss_2", cp(1));
    expect(await v1.issuers()).toEqual(["iss_1"]);
    expect(await v1.baseline("iss_1")).toEqual({ size: 2, head: "h2", from: "checkpoint" });
    expect((await tree.issuers()).sort()).toEqual(["iss_1", "iss_2"]);
    expect(await tree.baseline("iss_1")).toMatchObject({ size: 20, note: note(20) });
    expect(await tree.baseline("iss_3")).toBeUndefined();
    expect(statSync(join(dir, "tree")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "tree", "iss_1.ndjson")).mode & 0o777).toBe(0o600);
    await expect(tree.append("../x", cp(1))).rejects.toThrow(/invalid issuer id/);
  });
});
