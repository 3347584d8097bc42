/** The I-JSON (RFC 7493) checks on request bodies: duplicates, numbers, strings (server/http/i-json.ts). */
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
    expect(violation('{"payload":{"amount":1,"d":"1","d":"2"}}')).toEqual({ code: "ERR_JSON_DUPLICATE_MEMBER", path: "payload.d" });
    expect(violation('{"a":[0,{"b":[{}, {"c":1,"c":1}]}]}')).toEqual({ code: "ERR_JSON_DUPLICATE_MEMBER", path: "a.1.b.1.c" });
    expect(violation('{"ab":1,"a\\u0062":2}')).toEqual({ code: "ERR_JSON_DUPLICATE_MEMBER", path: "ab" });
    expect(violation('{"x":"\\\\","y":"\\"","x":3}')).toEqual({ code: "ERR_JSON_DUPLICATE_MEMBER", path: "x" });
    // the same name in sibling objects is not a duplicate
    expect(parseIJson('[{"a":1},{"a":2}]')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("refuses numbers whose signed (RFC 8785) form would be a different number", () => {
    expect(violation('{"payload":{"amount":12345678901234567890}}')).toEqual({ code: "ERR_JSON_NUMBER_NOT_EXACT", path: "payload.amount" });
    expect(violation("[1, 9007199254740993]")).toEqual({ code: "ERR_JSON_NUMBER_NOT_EXACT", path: "1" });
    expect(violation('{"x":0.10000000000000001}').code).toBe("ERR_JSON_NUMBER_NOT_EXACT");
    expect(violation('{"x":1e400}').code).toBe("ERR_JSON_NUMBER_NOT_EXACT");
    expect(violation('{"x":-1e-400}').code).toBe("ERR_JSON_NUMBER_NOT_EXACT");
  });

  it("accepts numbers that denote the same value as their shortest double form", () => {
    for (const t of ["0", "-0", "1.0", "1e2", "1E+2", "100e-2", "0.1", "9007199254740992", "1.5e-7", "123456789012345", "1e21", "5e-324", "1.7976931348623157e308"]) {
      expect(roundTrips(t), t).toBe(true);
    }
    for (const t of ["12345678901234567890", "0.30000000000000004441", "2e-324", "1.79769313486231581e308"]) expect(roundTrips(t), t).toBe(false);
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
    expect(violation(`{"payload":${nested(MAX_BODY_DEPTH)}}`)).toEqual({ code: "ERR_JSON_TOO_DEEP", path: `payload${".0".repeat(MAX_BODY_DEPTH - 1)}` });
  });

  it("syntax errors are MalformedJson", () => {
    for (const t of ["", "{", '{"a":1,}', "NaN", "[01]", '{"a" 1}']) expect(() => parseIJson(t), t).toThrow(MalformedJson);
  });
});
