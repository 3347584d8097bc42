/** The I-JSON (RFC 7493) checks on request bodies: duplicates, numbers, strings (server/http/i-json.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IJsonViolation, MAX_BODY_DEPTH, MalformedJson, parseIJson, roundTrips } from "../../../server/http/i-json.js";

function violation(text: string): { code: string; path: string } {
  try {
    parseIJson(text);
  } catch (e) {
    if (e instanceof IJsonViolation) return { code: e.code, path: e.path };
    throw e;
  }
  throw new Error(`accepted: ${text}`);
}

describe("parseIJson", () => {
  it("returns what JSON.parse returns for I-JSON", () => {
    const text = '{"a":[1,2.5,-0.125,1e2,1.0,true,null,"x\\"y",{"b":{}}],"\\u00e9":"é","😀":"\\ud83d\\ude00"}';
    expect(parseIJson(text)).toEqual(JSON.parse(text));
  });

  it("refuses duplicate member names at any depth, after unescaping, naming the member", () => {
    expect(violation('{"payload":{"amount":1,"d":"1","d":"2"}}')).toEqual({
      code: "ERR_JSON_DUPLICATE_MEMBER",
      path: "payload.d",
    });
    expect(violation('{"a":[0,{"b":[{}, {"c":1,"c":1}]}]}')).toEqual({
      code: "ERR_JSON_DUPLICATE_MEMBER",
      path: "a.1.b.1.c",
    });
    expect(violation('{"ab":1,"a\\u0062":2}')).toEqual({ code: "ERR_JSON_DUPLICATE_MEMBER", path: "ab" });
    expect(violation('{"x":"\\\\","y":"\\"","x":3}')).toEqual({ code: "ERR_JSON_DUPLICATE_MEMBER", path: "x" });
    // the same name in sibling objects is not a duplicate
    expect(parseIJson('[{"a":1},{"a":2}]')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("refuses numbers whose signed (RFC 8785) form would be a different number", () => {
    expect(violation('{"payload":{"amount":12345678901234567890}}')).toEqual({
      code: "ERR_JSON_NUMBER_NOT_EXACT",
      path: "payload.amount",
    });
    expect(violation("[1, 9007199254740993]")).toEqual({ code: "ERR_JSON_NUMBER_NOT_EXACT", path: "1" });
    expect(violation('{"x":0.10000000000000001}').code).toBe("ERR_JSON_NUMBER_NOT_EXACT");
    expect(violation('{"x":1e400}').code).toBe("ERR_JSON_NUMBER_NOT_EXACT");
    expect(violation('{"x":-1e-400}').code).toBe("ERR_JSON_NUMBER_NOT_EXACT");
  });

  it("accepts numbers that denote the same value as their shortest double form", () => {
    for (const t of [
      "0",
      "-0",
      "1.0",
      "1e2",
      "1E+2",
      "100e-2",
      "0.1",
      "9007199254740992",
      "1.5e-7",
      "123456789012345",
      "1e21",
      "5e-324",
      "1.7976931348623157e308",
    ]) {
      expect(roundTrips(t), t).toBe(true);
    }
    for (const t of ["12345678901234567890", "0.30000000000000004441", "2e-324", "1.79769313486231581e308"])
      expect(roundTrips(t), t).toBe(false);
  });

  it("refuses lone surrogates and noncharacters, escaped or not", () => {
    expect(violation('{"name":"\\ud800"}')).toEqual({ code: "ERR_JSON_INVALID_STRING", path: "name" });
    expect(violation('{"a":["ok","\\udc00x"]}')).toEqual({ code: "ERR_JSON_INVALID_STRING", path: "a.1" });
    expect(violation('{"a":"\\uffff"}').code).toBe("ERR_JSON_INVALID_STRING");
    expect(violation('{"a":"\ufdd0"}').code).toBe("ERR_JSON_INVALID_STRING");
    expect(violation('{"\\ud800":1}').code).toBe("ERR_JSON_INVALID_STRING");
  });

  it("refuses nesting deeper than MAX_BODY_DEPTH, naming where", () => {
    const nested = (d: number) => `${"[".repeat(d)}${"]".repeat(d)}`;
    expect(() => parseIJson(nested(MAX_BODY_DEPTH))).not.toThrow();
    expect(violation(nested(MAX_BODY_DEPTH + 1)).code).toBe("ERR_JSON_TOO_DEEP");
    expect(violation(`{"payload":${nested(MAX_BODY_DEPTH)}}`)).toEqual({
      code: "ERR_JSON_TOO_DEEP",
      path: `payload${".0".repeat(MAX_BODY_DEPTH - 1)}`,
    });
  });

  it("syntax errors are MalformedJson", () => {
    for (const t of ["", "{", '{"a":1,}', "NaN", "[01]", '{"a" 1}'])
      expect(() => parseIJson(t), t).toThrow(MalformedJson);
  });
});

describe("parseIJson, by property", () => {
  const NONCHARACTER = /[\p{Noncharacter_Code_Point}]/u;

  it("is JSON.parse on any JSON text without noncharacters, and names the string that has one", () => {
    fc.assert(
      fc.property(fc.unicodeJsonValue({ maxDepth: 4 }), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        if (!NONCHARACTER.test(text)) expect(parseIJson(text)).toEqual(JSON.parse(text));
        else expect(violation(text).code).toBe("ERR_JSON_INVALID_STRING");
      }),
      { numRuns: 300 },
    );
  });

  it("finds a duplicate member wherever it is nested, naming its path", () => {
    const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !NONCHARACTER.test(k));
    fc.assert(
      fc.property(fc.array(fc.oneof(key, fc.nat({ max: 3 })), { maxLength: 5 }), key, (path, dup) => {
        let text = `{${JSON.stringify(dup)}:1,${JSON.stringify(dup)}:2}`;
        for (const step of [...path].reverse()) {
          text = typeof step === "number" ? `[${"0,".repeat(step)}${text}]` : `{${JSON.stringify(step)}:${text}}`;
        }
        expect(violation(text)).toEqual({ code: "ERR_JSON_DUPLICATE_MEMBER", path: [...path, dup].join(".") });
      }),
    );
  });

  it("accepts an integer exactly when the RFC 8785 form of its double denotes the same integer", () => {
    /** The exact value of a decimal (integer-valued) number string such as "1.1805916207174113e+21". */
    const exact = (s: string): bigint => {
      const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(s)!;
      const digits = BigInt(m[2]! + (m[3] ?? ""));
      const exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
      const v = exp >= 0 ? digits * 10n ** BigInt(exp) : digits / 10n ** BigInt(-exp);
      return m[1] ? -v : v;
    };
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }), (n) => {
        expect(roundTrips(n.toString())).toBe(exact(String(Number(n))) === n);
      }),
      { numRuns: 1000 },
    );
    // 2^70 is a double, but its JCS form 1.1805916207174113e+21 denotes another number: refused.
    expect([roundTrips(String(2n ** 70n)), String(2 ** 70)]).toEqual([false, "1.1805916207174113e+21"]);
    expect(roundTrips("1000000000000000000000")).toBe(true); // 1e21, exactly
  });

  it("accepts every double in its shortest form and in exponent notation", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        expect(roundTrips(JSON.stringify(d))).toBe(true);
        expect(roundTrips(d.toExponential())).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
