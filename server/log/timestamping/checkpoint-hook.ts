/**
 * The checkpoint publisher's timestamp hook: each new checkpoint's text (the note body the log key
 * signs) is handed to the `CheckpointTimestamper`, which asks the TSAs in the background and stores
 * the tokens; while every TSA is down it re-asks the newest checkpoint until one answers.
 */
import type { CheckpointHook, SignedCheckpoint } from "../tree/checkpoint-hooks.js";
import type { CheckpointTimestamper } from "./timestamper.js";

export class TimestampCheckpointHook implements CheckpointHook {
  readonly name = "timestamps";

  constructor(private readonly timestamper: CheckpointTimestamper) {}

  onCheckpoint(cp: SignedCheckpoint): void {
    this.timestamper.schedule(cp.body);
  }
}
