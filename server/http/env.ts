import type { AppDeps } from "../deps.js";
import type { Principal } from "../auth/principal.js";

export type AppEnv = {
  Variables: {
    deps: AppDeps;
    principal: Principal;
    requestId: string;
    /** Id (never the value) of the bearer token that authenticated the request. */
    tokenId: string;
    /** Key ARN of a signature the request made (key-usage monitoring reads it after the handler). */
    signedWithKey: string;
  };
};
