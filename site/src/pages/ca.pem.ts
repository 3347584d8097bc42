import type { APIRoute } from "astro";
import { directory } from "../lib/build-directory";

export const GET: APIRoute = () =>
  new Response(directory.ca?.pem || "# This portal was built without a directory: no CA certificate is pinned.\n", {
    headers: { "Content-Type": "application/x-pem-file" },
  });
