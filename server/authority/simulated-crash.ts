/** Thrown when a test's `stopAfter` step is reached, to simulate a crash between lifecycle steps. */
export class SimulatedCrash extends Error {
  constructor(readonly step: string) {
    super(`simulated crash after ${step}`);
  }
}
