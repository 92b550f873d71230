// --watch: re-extract when a source file (or a file it imports) changes, then regenerate.
// Generation writes only files whose contents changed, so an edit to one service rewrites
// that service's outputs and nothing else.

import { watch, type FSWatcher } from "chokidar";
import { messageOf } from "../common.js";
import type { ExtractResult, ExtractSession } from "../extract.js";
import { EXIT, type CliIO } from "./io.js";

export interface WatchHandle {
  /** Resolves after the next regeneration (for tests and benchmarks). */
  nextRun(): Promise<number>;
  close(): Promise<void>;
}

/** Debounce window: editors write a file in several steps. */
const SETTLE_MS = 50;

/** Watches the session's files; each change re-reads only the changed files, then regenerates. */
export async function startWatch(
  session: ExtractSession,
  regenerate: (result: ExtractResult) => number,
  io: Pick<CliIO, "stdout" | "stderr">,
): Promise<WatchHandle> {
  let watched = new Set(session.result.files);
  const watcher: FSWatcher = watch([...watched], { ignoreInitial: true, awaitWriteFinish: false });
  let timer: NodeJS.Timeout | undefined;
  const changed = new Set<string>();
  let waiters: ((code: number) => void)[] = [];

  const runOnce = (): void => {
    timer = undefined;
    const files = [...changed];
    changed.clear();
    let code: number;
    try {
      const result = session.update(files);
      code = regenerate(result);
      // Follow new imports, forget files no longer used.
      const next = new Set(result.files);
      const added = [...next].filter((f) => !watched.has(f));
      const gone = [...watched].filter((f) => !next.has(f));
      if (added.length) watcher.add(added);
      if (gone.length) void watcher.unwatch(gone);
      watched = next;
    } catch (err) {
      io.stderr(`rpyc-gen: ${messageOf(err)}\n`);
      code = EXIT.IO;
    }
    for (const resolve of waiters.splice(0)) resolve(code);
  };

  watcher.on("all", (_event, file) => {
    changed.add(file);
    if (timer) clearTimeout(timer);
    timer = setTimeout(runOnce, SETTLE_MS);
  });
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  io.stdout(`rpyc-gen: watching ${watched.size} file(s)\n`);

  return {
    nextRun: () => new Promise((resolve) => waiters.push(resolve)),
    close: async () => {
      if (timer) clearTimeout(timer);
      waiters = [];
      await watcher.close();
    },
  };
}
