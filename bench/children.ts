// Child processes of the benchmarks: each measurement runs in its own process, and none may
// outlive the bench (Ctrl-C, an error, or a crash of the bench itself).

import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";

/** Every process a bench started and that has not exited yet. */
export const children = new Set<ChildProcess>();

/**
 * Starts a child in its own process group (a Ctrl-C reaches only the bench, which stops it).
 * Its stdin stays an open pipe: children leave by themselves when it reaches EOF, which is
 * what happens if the bench dies without cleaning up.
 */
export function startChild(command: string, args: readonly string[], cwd: string): ChildProcessWithoutNullStreams {
  const proc = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "pipe"], detached: true });
  children.add(proc);
  proc.once("exit", () => children.delete(proc));
  proc.once("error", () => children.delete(proc));
  proc.stdin.on("error", () => {}); // a child that is gone closes the pipe: not our error
  return proc;
}

export function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(proc: ChildProcess, graceMs = 2000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = exited(proc);
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
}

export function stopAllChildren(): Promise<void> {
  return Promise.all([...children].map((proc) => stopChild(proc))).then(() => undefined);
}

// Last resort: whatever is still running when the bench exits is killed (synchronously).
process.on("exit", () => {
  for (const proc of children) proc.kill("SIGKILL");
});

/** Set once a bench received SIGINT, SIGTERM or SIGHUP; its loops check it and stop. */
export interface Interruption {
  readonly interrupted: boolean;
}

/**
 * On SIGINT, SIGTERM or SIGHUP (once): runs `cleanup` (which stops the children and removes
 * temp files), says how many bench processes were stopped, and exits 130 without results.
 */
export function exitOnSignals(cleanup: () => Promise<void>): Interruption {
  const state = { interrupted: false };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (state.interrupted) return;
    state.interrupted = true;
    const count = children.size;
    void cleanup().then(() => {
      process.stderr.write(`\n${signal}: stopped ${count} bench process${count === 1 ? "" : "es"}; no results.\n`);
      process.exit(130);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  return state;
}
