/** The fork guard's archive (server/log/fork-guard/archive.ts): the baseline rule, and the file on a real temp folder. */
import { appendFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  baselineOf,
  ForkArchive,
  type ArchivedCheckpoint,
  type ForkAcknowledgement,
} from "../../../../server/log/fork-guard/archive.js";

const cp = (size: number, head = `h${size}`): ArchivedCheckpoint => ({
  issuer: "iss_1",
  size,
  head,
  time: "2026-12-02T18:00:00.000Z",
});
const ack = (size: number, head = `a${size}`): ForkAcknowledgement => ({
  kind: "fork-acknowledged",
  issuer: "iss_1",
  time: "2026-12-02T18:00:00.000Z",
  abandoned: null,
  resumedAt: { size, head },
  reason: "test",
});

describe("baselineOf", () => {
  it("is the largest checkpoint (records of several instances may interleave out of order)", () => {
    expect(baselineOf([cp(3), cp(9), cp(5)])).toEqual({ size: 9, head: "h9", from: "checkpoint" });
    expect(baselineOf([])).toBeUndefined();
  });

  it("after an acknowledgement, only what follows it counts, starting from its resumedAt", () => {
    expect(baselineOf([cp(10), ack(4)])).toEqual({ size: 4, head: "a4", from: "acknowledgement" });
    expect(baselineOf([cp(10), ack(4), cp(3), cp(6)])).toEqual({ size: 6, head: "h6", from: "checkpoint" });
    expect(baselineOf([cp(10), ack(4), cp(20), ack(2)])).toEqual({ size: 2, head: "a2", from: "acknowledgement" });
  });

  it("ignores records without a numeric size and a string head", () => {
    expect(
      baselineOf([cp(2), { issuer: "iss_1", size: "7", head: "x", time: "" } as unknown as ArchivedCheckpoint]),
    ).toEqual({ size: 2, head: "h2", from: "checkpoint" });
  });
});

describe("ForkArchive", () => {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-fork-archive-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("appends NDJSON per issuer (0600 in a 0700 folder) and reads its baseline back; a torn last line is ignored", async () => {
    const archive = new ForkArchive(join(dir, "a"));
    expect(await archive.issuers()).toEqual([]);
    expect(await archive.baseline("iss_1")).toBeUndefined();
    await archive.append("iss_1", cp(5));
    await archive.append("iss_1", cp(8));
    await archive.append("iss_2", cp(1));
    appendFileSync(join(dir, "a", "iss_1.ndjson"), '{"issuer":"iss_1","size":99,"he'); // crash mid-write
    expect(await archive.baseline("iss_1")).toEqual({ size: 8, head: "h8", from: "checkpoint" });
    expect((await archive.issuers()).sort()).toEqual(["iss_1", "iss_2"]);
    expect(statSync(join(dir, "a")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "a", "iss_1.ndjson")).mode & 0o777).toBe(0o600);
  });

  it("refuses an issuer id that is not a plain file name", async () => {
    const archive = new ForkArchive(join(dir, "b"));
    await expect(archive.append("../etc", cp(1))).rejects.toThrow(/invalid issuer id/);
  });
});
