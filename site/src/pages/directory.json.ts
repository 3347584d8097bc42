import type { APIRoute } from "astro";
import { directory } from "../lib/build-directory";

/** The directory this portal was built with, as one file (for case files and offline checks). */
export const GET: APIRoute = () =>
  new Response(JSON.stringify(directory, null, 2), { headers: { "Content-Type": "application/json" } });
