import { router } from "../http/openapi.js";
export function agentRoutes() {
  const app = router();
  return app;
}
