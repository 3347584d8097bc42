/** Who a request acts as, once its bearer token is resolved (a type of its own, so that http/env.ts need not import the middleware). */
export type Principal =
  { role: "operator" } | { role: "issuer"; issuerId: string } | { role: "agent"; issuerId: string; agentId: string };
