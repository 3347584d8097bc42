import { serialization, validation } from "./errors.js";

/**
 * Typed access to a request body. Everything here is attacker-controlled JSON:
 * wrong JSON types are SerializationException (as KMS), missing or out-of-range values
 * are ValidationException.
 */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class Input {
  /** The parsed request object (the access log picks its whitelisted, non-secret fields from it). */
  constructor(readonly body: Record<string, unknown>) {}

  static parse(raw: string): Input {
    if (raw.trim() === "") return new Input({});
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw serialization("Request body is not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw serialization("Request body must be a JSON object");
    }
    return new Input(parsed as Record<string, unknown>);
  }

  raw(name: string): unknown {
    return Object.hasOwn(this.body, name) ? this.body[name] : undefined;
  }

  optionalString(name: string, limits: { min?: number; max?: number } = {}): string | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw serialization(`${name} must be a string`);
    const { min = 1, max = Infinity } = limits;
    if (value.length < min || value.length > max) {
      throw validation(
        `1 validation error detected: Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must have length between ${min} and ${max}`,
      );
    }
    return value;
  }

  string(name: string, limits: { min?: number; max?: number } = {}): string {
    const value = this.optionalString(name, limits);
    if (value === undefined) throw missing(name);
    return value;
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value)) throw serialization(`${name} must be an integer`);
    if (value < min || value > max) {
      throw validation(
        `1 validation error detected: Value '${value}' at '${lowerFirst(name)}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
      );
    }
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") throw serialization(`${name} must be a boolean`);
    return value;
  }

  /** A base64 blob with a byte-length constraint. */
  blob(name: string, maxBytes: number): Buffer {
    const value = this.raw(name);
    if (value === undefined || value === null) throw missing(name);
    if (typeof value !== "string" || !BASE64_RE.test(value)) throw serialization(`${name} must be base64`);
    const bytes = Buffer.from(value, "base64");
    if (bytes.length < 1 || bytes.length > maxBytes) {
      throw validation(
        `1 validation error detected: Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must have length between 1 and ${maxBytes}`,
      );
    }
    return bytes;
  }

  optionalEnum<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.optionalString(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw validation(
        `1 validation error detected: Value '${value}' at '${lowerFirst(name)}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(", ")}]`,
      );
    }
    return value as T;
  }

  enum<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.optionalEnum(name, allowed);
    if (value === undefined) throw missing(name);
    return value;
  }

  optionalArray(name: string): unknown[] | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw serialization(`${name} must be a list`);
    return value;
  }
}

function missing(name: string) {
  return validation(
    `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
  );
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
