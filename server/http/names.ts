/**
 * The one rule for human-readable names (issuer names, agent names), checked at the edge so that a
 * name the API accepts is one every later step (the certificate's O=, KMS descriptions, the signed
 * log entry) accepts too. A name is stored exactly as sent or refused — never trimmed or normalised:
 *
 * - 1 to {@link NAME_MAX_CHARS} code points (RFC 5280's ub-organization-name, since an issuer's name
 *   becomes O= in every agent certificate; agents get the same limit);
 * - already in Unicode NFC (refused otherwise rather than normalised: what is signed is what was sent);
 * - no code point of general category Cc (controls, incl. U+0085 and U+009B), Cf (format: RTL
 *   overrides, zero-width joiners, BOM), Cs (lone surrogates), Co (private use), Cn (unassigned,
 *   incl. noncharacters such as U+FFFF), nor the line/paragraph separators Zl, Zp;
 * - no leading or trailing white space.
 *
 * A refusal is 422 `ERR_INVALID_NAME` with `field` naming the member.
 */
import { z } from "@hono/zod-openapi";

export const NAME_MAX_CHARS = 64;

const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;
const EDGE_SPACE = /^\s|\s$/u;

/** Why `name` breaks the rule, or undefined if it does not. */
export function nameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length === 0) return "must not be empty";
  if (length > NAME_MAX_CHARS) return `must be at most ${NAME_MAX_CHARS} characters (it has ${length})`;
  const bad = FORBIDDEN.exec(name);
  if (bad)
    return `must not contain U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} (control, format, surrogate, private-use, unassigned or line-separator characters are refused)`;
  if (EDGE_SPACE.test(name)) return "must not start or end with white space";
  if (name.normalize("NFC") !== name) return "must be in Unicode normalisation form C (NFC)";
  return undefined;
}

/** A zod string checked by {@link nameProblem}; a failure is reported as 422 ERR_INVALID_NAME (http/openapi.ts). */
export function NameSchema() {
  return z
    .string()
    .superRefine((value, ctx) => {
      const problem = nameProblem(value);
      if (problem)
        ctx.addIssue({ code: "custom", message: problem, params: { status: 422, code: "ERR_INVALID_NAME" } });
    })
    .openapi({
      minLength: 1,
      maxLength: NAME_MAX_CHARS,
      description: `1–${NAME_MAX_CHARS} characters, NFC, no control/format/private-use/unassigned characters, no leading or trailing space`,
    });
}
