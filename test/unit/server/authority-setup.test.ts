/**
 * Names the authority's first-start set-up and its locks persist (server/authority/system-keys.ts,
 * ca-setup.ts, agent-lock.ts): a later start — or another instance of another version — finds the
 * CA and log keys, and excludes the same agent's operations, only while these stay as they are.
 */
import { describe, expect, it } from "vitest";
import { agentLeaseName } from "../../../server/authority/agent-lock.js";
import { caOptions } from "../../../server/authority/ca-setup.js";
import { CA_ALIAS, LOG_ALIAS, systemKeySpec } from "../../../server/authority/system-keys.js";
import { routeModules } from "../../../server/app.js";
import { publicRoutes } from "../../../server/routes/public.js";

describe("systemKeySpec", () => {
  it("names the CA key: alias, role tag, description and the system row holding its ARN", () => {
    expect(systemKeySpec("ca")).toEqual({
      systemName: "ca_key_arn",
      alias: "alias/kakunin/ca",
      tags: { "kakunin:role": "ca" },
      description: "Kakunin certificate authority key",
      keySpec: "RSA_2048",
    });
  });

  it("names the log signer key likewise, under its own alias and row", () => {
    expect(systemKeySpec("log")).toEqual({
      systemName: "log_key_arn",
      alias: "alias/kakunin/log",
      tags: { "kakunin:role": "log" },
      description: "Kakunin audit log signer key",
      keySpec: "RSA_2048",
    });
    expect(CA_ALIAS).not.toBe(LOG_ALIAS);
  });

  it("names the log v2 checkpoint key: Ed25519, its own alias and row", () => {
    expect(systemKeySpec("tlog")).toEqual({
      systemName: "tlog_key_arn",
      alias: "alias/kakunin/tlog",
      tags: { "kakunin:role": "tlog" },
      description: "Kakunin log checkpoint key (Ed25519, C2SP signed notes)",
      keySpec: "ECC_NIST_EDWARDS25519",
    });
  });
});

describe("caOptions", () => {
  const config = { trustDomain: "acme.example", publicUrl: "https://kakunin.acme.example", agentValidityDays: 90 };

  it("takes the trust domain and agent validity from the configuration", () => {
    expect(caOptions(config)).toEqual({
      trustDomain: "acme.example",
      crlUrl: "https://kakunin.acme.example/v1/public/crl",
      agentValidityDays: 90,
    });
  });

  it("points certificates' CRL distribution point at the route that serves the DER CRL", () => {
    const url = new URL(caOptions(config).crlUrl);
    const mounted = routeModules.find((m) => m.app === publicRoutes);
    expect(mounted).toBeDefined();
    expect(url.pathname.startsWith(`${mounted!.prefix}/`)).toBe(true);
    const path = url.pathname.slice(mounted!.prefix.length);
    expect(publicRoutes().routes.some((r) => r.method === "GET" && r.path === path)).toBe(true);
  });
});

describe("agentLeaseName", () => {
  it("is one lease per agent, the same for every lifecycle operation", () => {
    expect(agentLeaseName("agt_00")).toBe("agent:agt_00");
    expect(agentLeaseName("agt_00")).not.toBe(agentLeaseName("agt_01"));
  });
});
