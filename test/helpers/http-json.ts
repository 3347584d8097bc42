/**
 * Raw JSON over HTTP for suites that check what the server answers byte for byte (receipts,
 * exports, status codes) rather than go through the typed client (client.ts): one request, its
 * status and body as text and parsed JSON.
 */

/** What one request answered: status, headers, body text, and the body parsed (undefined if not JSON). */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** `method path` on `baseUrl` with a bearer `token` (none: public) and a JSON `body` (if given). */
export async function jsonRequest(
  baseUrl: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<JsonAnswer> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Like {@link jsonRequest}, failing the test on a status ≥ 300; the parsed body, or `{ text }` when it is not JSON. */
export async function jsonOk(baseUrl: string, method: string, path: string, token?: string, body?: unknown) {
  const r = await jsonRequest(baseUrl, method, path, token, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.json !== undefined ? r.json : { text: r.text };
}
