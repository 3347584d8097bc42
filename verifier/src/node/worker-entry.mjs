// Plain-JS entry so the worker runs the TypeScript source without a build step (as the CLI does).
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
