/**
 * EU DSS-shaped validation reports (simple and detailed) built from the building blocks and the
 * past signature validation result. Standalone: report.ts (the verify* functions' Report) is unchanged.
 */
export { buildValidationReports, type ReportInput } from "./build.js";
export type * from "./types.js";
