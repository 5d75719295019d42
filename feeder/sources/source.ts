import type { GpuSample } from "../types";

/**
 * A telemetry source. `read()` returns the samples observed since the previous call (a snapshot for
 * polled sources, everything streamed in meanwhile for streaming ones), already normalized.
 * It throws on an I/O or parse failure; the controller logs it and carries on with other sources.
 */
export interface TelemetrySource {
  /** Name used in logs and metrics, e.g. `nvidia-smi:command`. */
  readonly name: string;
  read(): Promise<GpuSample[]>;
  /** Problems the last `read()` met in the output it did parse (lines or fields it could not use). */
  readonly lastErrors?: readonly string[];
  /** Where the source stopped reading, to be kept across restarts (file sources); JSON-safe. */
  cursor?(): unknown;
  /** Resumes from a cursor an earlier process kept. */
  restoreCursor?(cursor: never): void;
  /** Releases processes, streams, sockets. */
  close(): Promise<void>;
}
