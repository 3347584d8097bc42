import type { APIRoute, GetStaticPaths } from "astro";
import { directory } from "../../lib/build-directory";

/** One PEM file per certificate in the directory: every agent's history and the log signer. */
export const getStaticPaths: GetStaticPaths = () => {
  const certs = [
    ...directory.agents.flatMap((a) => a.certificates),
    ...(directory.logSigner ? [directory.logSigner] : []),
  ];
  return certs
    .filter((c) => /^[0-9a-f]+$/.test(c.serial) && c.pem)
    .map((c) => ({ params: { serial: c.serial }, props: { pem: c.pem } }));
};

export const GET: APIRoute = ({ props }) =>
  new Response(String(props.pem).trim() + "\n", { headers: { "Content-Type": "application/x-pem-file" } });
