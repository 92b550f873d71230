// A progress bar for large inputs, on stderr and only in a terminal (CI logs stay clean).

import { Presets, SingleBar } from "cli-progress";

/** Below this many services a bar would only flicker. */
const MIN_SERVICES = 20;

export interface Progress {
  /** Reports `done` of `total` in the phase named `label` (extracting, emitting). */
  update(label: string, done: number, total: number): void;
  finish(): void;
}

const SILENT: Progress = { update: () => {}, finish: () => {} };

export function createProgress(io: { interactive: boolean }, stream: NodeJS.WritableStream = process.stderr): Progress {
  if (!io.interactive) return SILENT;
  let bar: SingleBar | undefined;
  let phase = "";
  return {
    update(label, done, total) {
      if (total < MIN_SERVICES) return;
      if (label !== phase) {
        bar?.stop();
        phase = label;
        bar = new SingleBar({ format: `rpyc-gen ${label} [{bar}] {value}/{total} services`, stream, clearOnComplete: true }, Presets.shades_classic);
        bar.start(total, 0);
      }
      bar?.update(done);
    },
    finish() {
      bar?.stop();
      bar = undefined;
      phase = "";
    },
  };
}
