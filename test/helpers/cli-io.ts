// rpyc-gen's CliIO for tests: run() in-process with stdout and stderr captured as strings,
// paths relative to the repository root (as a user runs it from there).

import { fileURLToPath } from "node:url";
import type { CliIO } from "../../compiler/cli/index.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type CapturedIO = CliIO & { out: string; err: string };

/** A non-interactive CliIO rooted at `cwd` (the repository by default) that keeps what is printed. */
export function captureIO(cwd: string = REPO_ROOT): CapturedIO {
  const io: CapturedIO = {
    cwd,
    interactive: false,
    out: "",
    err: "",
    stdout(text) {
      io.out += text;
    },
    stderr(text) {
      io.err += text;
    },
  };
  return io;
}
