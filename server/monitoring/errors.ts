/**
 * Typed errors of key-usage monitoring. Each has a stable `code`; messages name the file, record
 * and field (or the setting) at fault, never a secret.
 */
export class MonitoringError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A CloudTrail log or digest file that is not what CloudTrail writes (`where` names file, record, field). */
export class CloudTrailFormatError extends MonitoringError {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super("ERR_CLOUDTRAIL_FORMAT", `${where}: ${message}`);
  }
}

/** Reading CloudTrail files failed (folder unreadable, S3 refused or did not answer in time). */
export class CloudTrailUnavailableError extends MonitoringError {
  constructor(message: string, cause?: unknown) {
    super("ERR_CLOUDTRAIL_UNAVAILABLE", message, { cause });
  }
}

/** A monitoring setting (environment variable) with an invalid value; `setting` names it. */
export class MonitoringConfigError extends MonitoringError {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super("ERR_MONITORING_CONFIG", `${setting}: ${message}`);
  }
}

/** A call that did not finish within its deadline. */
export class DeadlineError extends MonitoringError {
  constructor(what: string, ms: number) {
    super("ERR_DEADLINE", `${what} did not finish within ${ms} ms`);
  }
}
