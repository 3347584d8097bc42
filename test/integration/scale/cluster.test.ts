/**
 * Three real server processes on one PostgreSQL database and one local KMS (PostgreSQL only;
 * skipped loudly by name without it, a failure under KAKUNIN_REQUIRE_PG=1):
 * - started at the same moment on a fresh database and a fresh KMS, they create exactly one CA;
 * - 1,000 concurrent operations for one issuer spread across the three form one contiguous chain
 *   whose export passes the auditor's CLI (`kakunin-verify log … --ca ca.pem`, exit 0);
 * - kill -9 of one instance mid-burst loses no acknowledged entry.
 */
import { ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shouldRunPostgres } from "../../helpers/postgres.js";
import { answer, apiClient, setupIssuer, streamText } from "../../helpers/client.js";
import { chainProblems, parseExport } from "../../helpers/chain-checks.js";
import { kakuninVerify, startCluster, type Cluster } from "./cluster.js";

const RUN = await shouldRunPostgres("scale/cluster (three instances on one PostgreSQL)");

describe.skipIf(!RUN)("[postgres] three instances on one database", () => {
  let c: Cluster;
  /** One operation by agent `a` through instance `via`, with the HTTP status it got. */
  const signVia = (via: number, a: { id: string; token: string }, payload: unknown) =>
    answer(c.servers[via]!, a.token, (k) => k.sign(a.id, { payload }));

  beforeAll(async () => {
    c = await startCluster(3, { kms: { latencyMs: 2 } });
  }, 180_000);
  afterAll(async () => {
    await c?.close();
  });

  it("started together on a fresh database and KMS, they create exactly one CA", async () => {
    const client = c.kms.client();
    const aliases = (await client.send(new ListAliasesCommand({}))).Aliases ?? [];
    const ours = aliases
      .filter((a) => a.AliasName?.startsWith("alias/kakunin/"))
      .map((a) => a.AliasName)
      .sort();
    expect(ours).toEqual(["alias/kakunin/ca", "alias/kakunin/log", "alias/kakunin/tlog"]);
    const keys = (await client.send(new ListKeysCommand({}))).Keys ?? [];
    const purposes: string[] = [];
    for (const k of keys) {
      const tags = (await client.send(new ListResourceTagsCommand({ KeyId: k.KeyId! }))).Tags ?? [];
      purposes.push(tags.find((t) => t.TagKey === "kakunin:purpose")?.TagValue ?? "?");
    }
    // A loser of the CreateAlias race may have created (and disabled) a spare key; only one is the CA.
    expect(purposes.filter((p) => p === "ca").length).toBeGreaterThanOrEqual(1);
    const caAlias = aliases.find((a) => a.AliasName === "alias/kakunin/ca")!;
    const caRows = await c.query("select serial, key_arn from certificates where role = 'ca'");
    expect(caRows).toHaveLength(1);
    expect(caRows[0].key_arn).toContain(caAlias.TargetKeyId!);
    expect(await c.query("select serial from certificates where role = 'log'")).toHaveLength(1);
    expect(await c.query("select number from crls")).toHaveLength(1);
    expect(
      await c.query(
        "select name from system where name in ('ca_key_arn', 'log_key_arn', 'ca_cert_serial', 'log_cert_serial')",
      ),
    ).toHaveLength(4);
    const pems = await Promise.all(c.servers.map((s) => apiClient(s).caPem()));
    expect(pems[0]).toMatch(/BEGIN CERTIFICATE/);
    expect(new Set(pems).size).toBe(1);
    // Bootstrap created exactly the CA key, the log key and the checkpoint key, plus at most spares that are disabled.
    const enabled = [];
    for (const k of keys) {
      const { DescribeKeyCommand } = await import("@aws-sdk/client-kms");
      const d = await client.send(new DescribeKeyCommand({ KeyId: k.KeyId! }));
      if (d.KeyMetadata!.Enabled) enabled.push(d.KeyMetadata!.Arn);
    }
    expect(enabled).toHaveLength(3);
  });

  it("1,000 concurrent operations for one issuer across the three form one chain that kakunin-verify passes", async () => {
    const issuer = await setupIssuer(c.servers[0]!, c.operatorToken, 8, "Scale Corp");
    const N = 1000;
    const results = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const a = issuer.agents[i % issuer.agents.length]!;
        const via = i % 3;
        const r = await signVia(via, a, { i });
        return { via, r };
      }),
    );
    expect(results.filter(({ r }) => r.status !== 201).map(({ r }) => `${r.status} ${r.error?.message}`)).toEqual([]);

    const res = await answer(c.servers[1]!, issuer.token, async (k) => streamText(await k.exportLog()));
    expect(res.status).toBe(200);
    const exp = parseExport(res.value!);
    expect(exp.entries.length).toBe(8 + N); // 8 agent.registered + the operations
    expect(exp.entries.map((e: any) => e.seq)).toEqual(Array.from({ length: 8 + N }, (_, i) => i));
    expect(chainProblems(exp.entries)).toEqual([]);
    const bySeq = new Map(exp.entries.map((e: any) => [e.seq, e]));
    for (const { r } of results) expect(bySeq.get(r.value!.entry.seq)).toEqual(r.value!.entry);
    // The instances really interleaved on the one chain: the seqs each acknowledged are not one block.
    const owner = new Map(results.map(({ via, r }) => [r.value!.entry.seq, via]));
    let switches = 0;
    let last = -1;
    for (let s = 8; s < 8 + N; s++) {
      const v = owner.get(s)!;
      if (v !== last) switches++;
      last = v;
    }
    expect(switches).toBeGreaterThan(3);
    for (const v of [0, 1, 2]) expect(results.filter((x) => x.via === v).length).toBeGreaterThan(300);

    const ca = await apiClient(c.servers[2]!).caPem();
    const v = await kakuninVerify(c.dir, res.value!, ca);
    expect(v.stderr).toBe("");
    expect(v.code, v.stdout).toBe(0);
  }, 300_000);

  it("kill -9 of one instance mid-burst loses no acknowledged entry", async () => {
    const issuer = await setupIssuer(c.servers[0]!, c.operatorToken, 6, "Crash Corp");
    const victim = c.servers[2]!;
    const acked: any[] = [];
    let stop = false;
    let killedAt = -1;
    const client = async (k: number) => {
      for (let j = 0; !stop; j++) {
        const via = (k + j) % 3;
        if (via === 2 && killedAt >= 0) continue; // the load balancer stopped sending to the dead instance
        const a = issuer.agents[(k + j) % issuer.agents.length]!;
        try {
          const r = await signVia(via, a, { k, j }); // throws ERR_NETWORK when the connection drops
          if (r.status === 201) acked.push(r.value!.entry);
          else if (r.status !== 503) throw new Error(`${r.status} ${r.error?.message}`);
        } catch (e) {
          if (via !== 2) throw e; // only the killed instance may drop connections
        }
      }
    };
    const clients = Array.from({ length: 48 }, (_, k) => client(k));
    while (acked.length < 300) await new Promise((r) => setTimeout(r, 10));
    await victim.kill(); // SIGKILL mid-burst
    killedAt = acked.length;
    while (acked.length < killedAt + 200) await new Promise((r) => setTimeout(r, 10));
    stop = true;
    await Promise.all(clients);

    const text = await streamText(await issuer.client.exportLog());
    const exp = parseExport(text);
    expect(chainProblems(exp.entries)).toEqual([]);
    const bySeq = new Map(exp.entries.map((e: any) => [e.seq, e]));
    const missing = acked.filter((e) => JSON.stringify(bySeq.get(e.seq)) !== JSON.stringify(e));
    expect(missing.map((e) => e.seq)).toEqual([]);
    const ca = await apiClient(c.servers[0]!).caPem();
    const v = await kakuninVerify(c.dir, text, ca);
    expect(v.code, `${v.stdout}\n${v.stderr}`).toBe(0);

    // A replacement instance joins and continues the same chain.
    const fresh = await c.start();
    const a = issuer.agents[0]!;
    const next = await answer(fresh, a.token, (k) => k.sign(a.id, { payload: "after the crash" }));
    expect(next.status).toBe(201);
    expect(next.value!.entry.seq).toBe(exp.entries.length);
    expect(next.value!.entry.prevHash).toBe(exp.entries.at(-1).hash);
  }, 300_000);
});
