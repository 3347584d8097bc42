/**
 * LogGuard: a hook the audit log calls before it appends or signs, and with every checkpoint before
 * that checkpoint leaves it — so a guard (the fork guard, server/log/fork-guard/) wraps the log
 * without subclassing it.
 */
import type { Checkpoint } from "./types.js";

export interface LogGuard {
  /** Why `issuerId`'s chain is refused now (appends, new checkpoints), or undefined. */
  status(issuerId: string): Promise<string | undefined>;
  /** Throws (a KakuninError) while `issuerId`'s chain is refused. */
  check(issuerId: string): Promise<void>;
  /** Called with every checkpoint the log hands out (checkpoint routes, exports) before it is returned. */
  handingOut(cp: Checkpoint): Promise<void>;
}
