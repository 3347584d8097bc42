/// <reference lib="webworker" />
/**
 * Web Worker for log verification: parse → canonicalise → SHA-256 → RSA-PSS verify per line, with
 * CryptoKeys cached per certificate. Imports only the verifier's pkijs-free worker core, so this
 * bundle stays small. Messages: {id, type:"keys", keys:[serial, spkiDer][]} | {id, type:"lines", lines}.
 */
import { LineVerifier } from "../../../../verifier/src/worker-core.ts";

const verifier = new LineVerifier();
const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (e: MessageEvent) => {
  const m = e.data as
    { id: number; type: "keys"; keys: [string, Uint8Array][] } | { id: number; type: "lines"; lines: string[] };
  try {
    if (m.type === "keys") {
      verifier.setKeys(new Map(m.keys));
      scope.postMessage({ id: m.id, ok: true });
    } else {
      const results = await verifier.verifyLines(m.lines);
      scope.postMessage({ id: m.id, results });
    }
  } catch (err) {
    scope.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
};
