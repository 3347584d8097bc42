/** Field validators for attacker-controlled JSON. Each failure is ERR_MALFORMED naming the field. */
import { MalformedError } from "../errors.js";

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function obj(parent: Json, key: string, path: string): Json {
  const v = parent[key];
  if (!isObject(v)) throw new MalformedError(`${path}.${key} must be an object`, { field: `${path}.${key}` });
  return v;
}

export function str(parent: Json, key: string, path: string, pattern?: RegExp): string {
  const v = parent[key];
  if (typeof v !== "string") throw new MalformedError(`${path}.${key} must be a string`, { field: `${path}.${key}` });
  if (pattern && !pattern.test(v)) throw new MalformedError(`${path}.${key} has an invalid format`, { field: `${path}.${key}` });
  return v;
}

export function optStr(parent: Json, key: string, path: string): string | undefined {
  return parent[key] === undefined || parent[key] === null ? undefined : str(parent, key, path);
}

export function int(parent: Json, key: string, path: string, min = 0): number {
  const v = parent[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new MalformedError(`${path}.${key} must be an integer ≥ ${min}`, { field: `${path}.${key}` });
  }
  return v;
}

export const HASH_RE = /^[0-9a-f]{64}$/;
export const SERIAL_RE = /^[0-9a-f]{1,64}$/;
// Standard base64 with padding, non-empty; unambiguous, so linear on hostile input.
export const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;
// RFC 3339 UTC with milliseconds, as Date#toISOString() writes it.
export const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Parses an RFC 3339 time field to epoch ms. */
export function time(parent: Json, key: string, path: string): number {
  const s = str(parent, key, path, TIME_RE);
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) throw new MalformedError(`${path}.${key} is not a valid time`, { field: `${path}.${key}` });
  return ms;
}
