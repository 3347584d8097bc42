import type { APIRoute } from "astro";
import { directory } from "../lib/build-directory";

export const GET: APIRoute = () =>
  new Response(directory.crl?.pem || "# No revocation list was available when this portal was built.\n", {
    headers: { "Content-Type": "application/x-pem-file" },
  });
