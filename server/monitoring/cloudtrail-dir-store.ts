import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseCloudTrailName } from "./cloudtrail-names.js";
import type { CloudTrailObject, CloudTrailScope, CloudTrailStore } from "./cloudtrail-store.js";
import { dayFolder } from "./cloudtrail-names.js";
import { CloudTrailUnavailableError } from "./errors.js";

/**
 * CloudTrail files in a folder, searched recursively: a synced copy of the trail's bucket
 * (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…`), the local KMS's `--cloudtrail-dir`, or
 * loose files. Day folders outside the window are not entered. The scope is not needed: a folder
 * holds what it holds.
 */
export class DirCloudTrailStore implements CloudTrailStore {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `dir:${root}`;
  }

  async list(fromMs: number, toMs: number, _scope?: CloudTrailScope): Promise<CloudTrailObject[]> {
    const from = dayFolder(fromMs);
    const to = dayFolder(toMs);
    const found: CloudTrailObject[] = [];
    const walk = async (dir: string, dateParts: string[] | undefined): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        throw new CloudTrailUnavailableError(
          `cannot read CloudTrail folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          err,
        );
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          // Below CloudTrail[-Digest]/<region>/ come YYYY/MM/DD: prune by date.
          if (dateParts !== undefined && /^\d{2,4}$/.test(entry.name)) {
            const parts = [...dateParts, entry.name];
            const prefix = parts.join("/");
            if (prefix < from.slice(0, prefix.length) || prefix > to.slice(0, prefix.length)) continue;
            await walk(path, parts);
          } else {
            const underRegion = basename(dir) === "CloudTrail" || basename(dir) === "CloudTrail-Digest";
            await walk(path, underRegion ? [] : undefined);
          }
        } else if (entry.isFile() && (entry.name.endsWith(".json.gz") || entry.name.endsWith(".json"))) {
          const named = parseCloudTrailName(entry.name);
          const deliveredAt = named?.deliveredAt ?? (await stat(path)).mtimeMs;
          if (deliveredAt >= fromMs && deliveredAt <= toMs)
            found.push({ key: path, deliveredAt, nameKind: named?.kind ?? "unnamed" });
        }
      }
    };
    await walk(this.root, undefined);
    return found.sort((a, b) => a.deliveredAt - b.deliveredAt || (a.key < b.key ? -1 : 1));
  }

  async read(object: CloudTrailObject): Promise<Uint8Array> {
    try {
      return await readFile(object.key);
    } catch (err) {
      throw new CloudTrailUnavailableError(
        `cannot read ${object.key}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        err,
      );
    }
  }
}
