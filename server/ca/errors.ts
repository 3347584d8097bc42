import { KakuninError } from "../errors.js";

/** The CA's own output failed a self-check (bad KMS signature, wrong key certified, CA expired). Nothing was issued. */
export class CaIntegrityError extends KakuninError {
  constructor(
    code:
      | "ERR_CA_SIGNATURE_INVALID"
      | "ERR_PUBLIC_KEY_MISMATCH"
      | "ERR_CA_EXPIRED"
      | "ERR_CA_NOT_YET_VALID"
      | "ERR_CA_CERTIFICATE_INVALID",
    message: string,
    status = 502,
  ) {
    super(status, code, message);
  }
}
