import { router } from "../http/openapi.js";
export function publicRoutes() {
  const app = router();
  return app;
}
