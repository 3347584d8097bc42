import pino, { type Logger } from "pino";

/** Paths pino redacts: Authorization headers and every `token` field (invariant 1). */
export const REDACT_PATHS = [
  "authorization",
  "headers.authorization",
  "req.headers.authorization",
  "request.headers.authorization",
  "token",
  "*.token",
  "*.*.token",
  "operatorToken",
  "*.operatorToken",
];

export function createLogger(level = "info", destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { service: "kakunin" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
