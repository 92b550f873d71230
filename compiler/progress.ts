// A progress bar for large inputs, on stderr and only in a terminal (CI logs stay clean).

import { SingleBar, Presets } from "cli-progress";

/** Below this many steps a bar would only flicker. */
const MIN_STEPS = 60;

export interface Progress {
  tick(): void;
  finish(): void;
}

const SILENT: Progress = { tick: () => {}, finish: () => {} };

export function createProgress(io: { interactive: boolean }, total: number, label: string): Progress {
  if (!io.interactive || total < MIN_STEPS) return SILENT;
  const bar = new SingleBar({ format: `rpyc-gen ${label} [{bar}] {value}/{total} files`, stream: process.stderr, clearOnComplete: true }, Presets.shades_classic);
  bar.start(total, 0);
  return {
    tick: () => bar.increment(),
    finish: () => bar.stop(),
  };
}
