// The doc test's scratch project: a directory under os.tmpdir() set up as a user's project that
// ran `npm i rpyc-ts` and `npm i -D typescript tsx @types/node` (README "Use it in your project"):
// node_modules/rpyc-ts is packages/rpyc-ts with its built dist/ (copied), node_modules/@types/node
// etcd3 (for `rpyc-ts/etcd`'s types) and ws (WebSocket's optional peer) link to this repository's; typescript and tsx run from
// this repository's node_modules. Also the child processes the test starts: each in its own process
// group, killed with everything it started on a timeout or when the test file ends.

import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { buildPackage } from "../../scripts/build-packages.js";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const TSC = path.join(REPO, "node_modules/typescript/bin/tsc");
export const TSX = path.join(REPO, "node_modules/tsx/dist/cli.mjs");

export interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL"); // the group: bash, npm, tsx, node, python below it
  } catch {
    child.kill("SIGKILL");
  }
}

afterAll(() => {
  for (const child of running) killGroup(child);
  running.clear();
});

/** The environment of a user's shell: without npm's per-run variables, NODE_OPTIONS or the test runner's. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|NODE_OPTIONS$|RPYC_TESTS$)/i.test(key)) continue;
    env[key] = value;
  }
  // npx finds this repository's own binaries; it must never fall back to a registry.
  return { ...env, npm_config_offline: "true", npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
}

/**
 * Runs a program to completion without blocking the event loop; no stdin. Killed with its whole
 * process group after `timeoutMs` (a bound for a wedged child, not a performance assertion).
 */
export function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: userEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[doc test: killed after ${timeoutMs / 1000} s]\n`;
      killGroup(child);
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}cannot run ${command}: ${err.message}\n` });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      killGroup(child); // anything the program left running in its group
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(child) : statSync(child).mtimeMs);
  }
  return newest;
}

function oldestMtime(dir: string): number {
  let oldest = Number.POSITIVE_INFINITY;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    oldest = Math.min(oldest, entry.isDirectory() ? oldestMtime(child) : statSync(child).mtimeMs);
  }
  return oldest;
}

/**
 * Whether the repository's built rpyc-gen (node_modules/.bin/rpyc-gen runs packages/rpyc-gen/dist)
 * can run the README's commands: "missing" (npm ci builds it), "stale" (older than compiler/ or
 * templates/: it would rewrite the checked-in goldens with stale output, so such a block waits
 * for `npm run build`; CI builds first) or "fresh".
 */
export function rpycGenDist(): "missing" | "stale" | "fresh" {
  const dist = path.join(REPO, "packages/rpyc-gen/dist");
  if (!existsSync(path.join(dist, "cli/index.js"))) return "missing";
  const sources = Math.max(newestMtime(path.join(REPO, "compiler")), newestMtime(path.join(REPO, "templates")));
  return oldestMtime(dist) < sources ? "stale" : "fresh";
}

export interface Project {
  readonly dir: string;
  /** How rpyc-ts got there: a copy of its built dist/, or a fresh build when runtime/ was edited since. */
  readonly runtime: "copied" | "rebuilt";
  remove(): void;
}

/** The scratch project, its node_modules set up; the caller writes package.json, tsconfig.json and the blocks. */
export function createProject(): Project {
  const pkg = path.join(REPO, "packages/rpyc-ts");
  const dist = path.join(pkg, "dist");
  if (!existsSync(path.join(dist, "index.js"))) {
    throw new Error("packages/rpyc-ts/dist is missing: run npm run build (npm ci runs it)");
  }
  const dir = mkdtempSync(path.join(tmpdir(), "rpyc-readme-"));
  const modules = path.join(dir, "node_modules");
  mkdirSync(path.join(modules, "@types"), { recursive: true });
  symlinkSync(path.join(REPO, "node_modules/@types/node"), path.join(modules, "@types", "node"), "dir");
  symlinkSync(path.join(REPO, "node_modules/etcd3"), path.join(modules, "etcd3"), "dir");
  symlinkSync(path.join(REPO, "node_modules/ws"), path.join(modules, "ws"), "dir"); // WebSocket's optional peer
  // A copy, as npm installs it (nothing beside it in node_modules: no required dependencies), and
  // immune to a rebuild of packages/ while the test runs: dist/ as `npm ci` built it, unless
  // runtime/ changed since; then a build of the sources as they are now, so an edit loop never
  // tests stale JavaScript (packages/ itself is left alone).
  const copy = path.join(modules, "rpyc-ts");
  mkdirSync(copy);
  for (const file of ["package.json", "bin"]) cpSync(path.join(pkg, file), path.join(copy, file), { recursive: true });
  const fresh = oldestMtime(dist) >= newestMtime(path.join(REPO, "runtime"));
  if (fresh) {
    cpSync(dist, path.join(copy, "dist"), { recursive: true });
  } else {
    try {
      buildPackage("rpyc-ts", path.join(copy, "dist"));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      const { stdout, stderr } = err as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`building rpyc-ts from runtime/ failed:\n${stdout?.toString() ?? ""}${stderr?.toString() ?? ""}`);
    }
  }
  return { dir, runtime: fresh ? "copied" : "rebuilt", remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under `dir` (relative path -> bytes as text), to tell whether a command changed any. */
export function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (sub: string): void => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else files.set(rel, readFileSync(path.join(dir, rel), "latin1"));
    }
  };
  walk("");
  return files;
}
