/** Registration: a new KMS key for the agent, its first certificate, the rows, then `agent.registered`. */
import type { AppDeps } from "../deps.js";
import { NotFoundError } from "../errors.js";
import { activeCertificateRow, newAgentKeyRow } from "./new-rows.js";
import { newId } from "./ids.js";
import { AGENT_TAG, ISSUER_TAG } from "./key-tags.js";
import { agentRegisteredEntry } from "./lifecycle-entries.js";

/** A registered agent, with its certificate (shown to the caller once, as created). */
export interface RegisteredAgent {
  id: string;
  name: string;
  keyArn: string;
  certificate: { serial: string; pem: string; notBefore: string; notAfter: string };
}

async function bestEffortDisable(deps: AppDeps, arn: string): Promise<void> {
  try {
    await deps.custody.disableKey(arn);
  } catch (e) {
    deps.logger.error(
      { keyArn: arn, err: { name: (e as Error).name, message: (e as Error).message } },
      "could not disable key after failed operation",
    );
  }
}

/**
 * Registers agent `name` for issuer `issuerId`. All or nothing: if any step fails (KMS, CA, the
 * database, the log append), the rows are removed and the new key is disabled before the error
 * is rethrown.
 */
export async function registerAgent(deps: AppDeps, issuerId: string, name: string): Promise<RegisteredAgent> {
  const { db, custody, ca } = deps;
  const issuer = await db.selectFrom("issuers").select(["id", "name"]).where("id", "=", issuerId).executeTakeFirst();
  if (!issuer) throw new NotFoundError("Issuer not found");
  const agentId = newId("agt");
  const { arn } = await custody.createSigningKey({
    purpose: "agent",
    tags: { [AGENT_TAG]: agentId, [ISSUER_TAG]: issuerId },
    description: `Kakunin agent ${agentId} (${name}) of issuer ${issuerId}`,
  });
  let committed = false;
  try {
    const publicKey = await custody.getPublicKey(arn);
    const cert = await ca.issueAgentCertificate({ agentId, issuerName: issuer.name, publicKey, notBefore: deps.now() });
    const t = deps.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto("agents")
        .values({ id: agentId, issuer_id: issuerId, name, status: "active", created_at: t })
        .execute();
      await trx
        .insertInto("keys")
        .values(newAgentKeyRow(arn, agentId, publicKey, t))
        .execute();
      await trx
        .insertInto("certificates")
        .values(activeCertificateRow(cert, { role: "agent", keyArn: arn, agentId: agentId, createdAt: t }))
        .execute();
    });
    committed = true;
    if (deps.log) {
      await deps.log.appendLifecycle(
        issuerId,
        agentRegisteredEntry(agentId, {
          name,
          serial: cert.serial,
          keyArn: arn,
          notBefore: cert.notBefore,
          notAfter: cert.notAfter,
        }),
      );
    }
    return {
      id: agentId,
      name,
      keyArn: arn,
      certificate: {
        serial: cert.serial,
        pem: cert.pem,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
      },
    };
  } catch (e) {
    // No partial writes: undo the rows (if any), disable the new key, write nothing else.
    if (committed) {
      await db
        .transaction()
        .execute(async (trx) => {
          await trx.deleteFrom("certificates").where("agent_id", "=", agentId).execute();
          await trx.deleteFrom("keys").where("agent_id", "=", agentId).execute();
          await trx.deleteFrom("agents").where("id", "=", agentId).execute();
        })
        .catch((err) => deps.logger.error({ agentId, err: String(err) }, "could not undo registration"));
    }
    await bestEffortDisable(deps, arn);
    throw e;
  }
}
