import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";
import type { KeyOwner, KeyOwners } from "../key-owners.js";

/** Kakunin's keys from the `keys` table: every agent key (current and rotated out), the CA key, the log key. */
export class DbKeyOwners implements KeyOwners {
  constructor(private readonly db: Kysely<Database>) {}

  async ownersOf(keyArns: readonly string[]): Promise<Map<string, KeyOwner>> {
    const found = new Map<string, KeyOwner>();
    for (let i = 0; i < keyArns.length; i += 500) {
      const rows = await this.db
        .selectFrom("keys")
        .leftJoin("agents", "agents.id", "keys.agent_id")
        .select(["keys.arn", "keys.purpose", "keys.agent_id", "agents.issuer_id"])
        .where("keys.arn", "in", keyArns.slice(i, i + 500))
        .execute();
      for (const r of rows)
        found.set(r.arn, { role: r.purpose, agentId: r.agent_id ?? undefined, issuerId: r.issuer_id ?? undefined });
    }
    return found;
  }

  async allKeyArns(): Promise<string[]> {
    return (await this.db.selectFrom("keys").select("arn").execute()).map((r) => r.arn);
  }
}
