import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Hook } from "@hono/zod-openapi";
import type { AppEnv } from "./env.js";
import { ValidationError } from "../errors.js";

/**
 * zod failures (body, params, query) become ERR_VALIDATION problems (400), never 500. A custom
 * issue may carry `params: { status: 422, code }` (e.g. the name rule, http/names.ts).
 */
export const defaultHook: Hook<any, AppEnv, any, any> = (result) => {
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path?.length ? issue.path.map(String).join(".") : undefined;
    const msg = issue ? `${field ? `${field}: ` : ""}${issue.message}` : "Invalid request";
    const params = issue?.code === "custom" ? (issue.params as { status?: number; code?: string } | undefined) : undefined;
    const typed = params?.status === 422 && params.code ? { status: 422 as const, code: params.code } : { status: 400 as const };
    throw new ValidationError(msg, field === undefined ? typed : { ...typed, field });
  }
};

export function router(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook });
}

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string().openapi({ example: "ERR_VALIDATION" }),
  instance: z.string().optional(),
  field: z.string().optional(),
}).openapi("Problem");

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: ProblemSchema } } });

/** Standard error responses to spread into a route's `responses`. */
export const errorResponses = {
  400: problem("Malformed request or invalid input"),
  401: problem("Missing or unknown bearer token"),
  403: problem("The token's role may not use this route"),
  404: problem("Not found (including another issuer's agents)"),
  409: problem("Conflict with the resource's current state"),
  413: problem("Request body too large"),
  503: problem("KMS unavailable or throttling (see Retry-After)"),
} as const;

export const publicErrorResponses = { 400: errorResponses[400], 404: errorResponses[404] } as const;

export const bearerSecurity = [{ bearer: [] as string[] }];
