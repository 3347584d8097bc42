/**
 * A tiny static file server for the built portal (site/dist): `npm start` serves the portal with it,
 * and the e2e tests use it. Any web server or object store can host site/dist instead (README).
 *
 *   tsx scripts/serve-site.ts [--dir site/dist] [--port 4321] [--host 127.0.0.1]
 *
 * Directory URLs serve their index.html; unknown paths get 404.html (or a plain 404).
 * Sends conservative security headers and never sets cookies.
 */
import { readFile, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Hono } from "hono";
import { serve } from "@hono/node-server";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".pem": "application/x-pem-file",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
};

export interface ServeSiteOptions {
  /** The built site (default site/dist). */
  dir?: string;
  /** Port (0 = any free port; default 0). */
  port?: number;
  host?: string;
}

export interface SiteServer {
  url: string;
  close(): Promise<void>;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

export async function serveSite(opts: ServeSiteOptions = {}): Promise<SiteServer> {
  const root = resolve(opts.dir ?? join(dirname(fileURLToPath(import.meta.url)), "../site/dist"));
  const host = opts.host ?? "127.0.0.1";
  const app = new Hono();

  app.on(["GET", "HEAD"], "*", async (c) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(c.req.url).pathname);
    } catch {
      return c.text("Bad request", 400);
    }
    if (path.includes("\0")) return c.text("Bad request", 400);
    let file = resolve(root, "." + path);
    if (file !== root && !file.startsWith(root + sep)) return c.text("Not found", 404);
    if (!(await isFile(file))) {
      const index = join(file, "index.html");
      if (await isFile(index)) {
        if (!path.endsWith("/")) return c.redirect(path + "/" + (new URL(c.req.url).search ?? ""), 301);
        file = index;
      } else if (await isFile(file + ".html")) {
        file = file + ".html";
      } else {
        const notFound = join(root, "404.html");
        const body = (await isFile(notFound)) ? await readFile(notFound) : Buffer.from("Not found\n");
        return new Response(c.req.method === "HEAD" ? null : body, { status: 404, headers: headers(notFound) });
      }
    }
    const body = await readFile(file);
    return new Response(c.req.method === "HEAD" ? null : body, { status: 200, headers: headers(file, body.length) });
  });

  function headers(file: string, length?: number): Headers {
    const h = new Headers({
      "Content-Type": TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cache-Control": file.includes(`${sep}_astro${sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
    });
    if (length !== undefined) h.set("Content-Length", String(length));
    return h;
  }

  const server = await new Promise<ReturnType<typeof serve>>((res, rej) => {
    const s = serve({ fetch: app.fetch, port: opts.port ?? 0, hostname: host }, () => res(s));
    s.once("error", rej);
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  return {
    url,
    close: () =>
      new Promise<void>((res) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => res());
      }),
  };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({
    options: {
      dir: { type: "string", default: "site/dist" },
      port: { type: "string", default: process.env.PORTAL_PORT ?? "4321" },
      host: { type: "string", default: "127.0.0.1" },
    },
  });
  if (!(await isFile(join(resolve(values.dir!), "index.html")))) {
    console.error(
      `No built site in ${values.dir}: run \`npx tsx scripts/export-directory.ts --api URL && npx astro build\` first.`,
    );
    process.exit(1);
  }
  const s = await serveSite({ dir: values.dir!, port: Number(values.port), host: values.host! });
  console.log(`Kakunin portal listening on ${s.url}`);
  const stop = () => void s.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
