import type { AppDeps } from "../deps.js";
import type { Principal } from "../auth/principal.js";

export type AppEnv = {
  Variables: {
    deps: AppDeps;
    principal: Principal;
    requestId: string;
  };
};
