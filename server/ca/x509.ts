/**
 * The one place @peculiar/x509 is loaded: its DI container (tsyringe) needs reflect-metadata first.
 * Import x509 from here, never from "@peculiar/x509" directly.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

export { x509 };
