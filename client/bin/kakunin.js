#!/usr/bin/env node
// The kakunin CLI: runs the TypeScript sources through tsx (a dependency of this package).
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
