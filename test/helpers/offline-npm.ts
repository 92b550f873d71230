// Child processes for tests that package and install with npm WITHOUT the network:
//   - npm runs with --offline, a private empty cache and empty user/global config files, so
//     nothing on the machine (a warm cache, an .npmrc with another registry) changes what
//     it does;
//   - its registry is a recorder on 127.0.0.1: were npm to reach for a registry anyway, the
//     request lands there (and is refused with 404), and the test asserts it saw none;
//   - npm_* variables inherited from an `npm test` run (npm_config_local_prefix and the
//     like) and proxy settings are dropped, so npm works only in the directory it is given.
// Also a small reader for npm's tarballs (gzip + ustar/pax), to list and extract them with
// no external tar program. Every process and server is stopped when the test file ends.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll } from "vitest";

export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ProcessOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; the result then has signal "SIGKILL". */
  readonly timeoutMs?: number;
}

const running = new Set<ChildProcess>();
const closers = new Set<() => Promise<void>>();
afterAll(async () => {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
  await Promise.all([...closers].map((close) => close()));
  closers.clear();
});

/**
 * Runs a program to completion without blocking the event loop (servers in the test process
 * keep answering while it runs). No stdin: it is closed, as on CI. Never rejects: a program
 * that cannot start gives code null and the reason in stderr.
 */
export function runProcess(command: string, args: readonly string[], options: ProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      // npm is npm.cmd on Windows, which Node runs only through a shell.
      shell: process.platform === "win32" && !command.endsWith(".exe"),
    });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}cannot run ${command}: ${err.message}\n` });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `node` (this process's executable) with a script and arguments. */
export function runNode(args: readonly string[], options: ProcessOptions): Promise<ProcessResult> {
  return runProcess(process.execPath, args, options);
}

const PROXY_VARIABLES = /^(https?_proxy|all_proxy|no_proxy)$/i;

/**
 * This process's environment without npm's per-run variables, proxies or NODE_OPTIONS (a
 * consumer runs plain `node`, without the test runner's loaders), plus `extra`.
 */
export function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || PROXY_VARIABLES.test(key) || key === "NODE_OPTIONS") continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** An HTTP server on 127.0.0.1 that records every request and answers 404. */
export interface RequestRecorder {
  readonly url: string;
  /** "GET /chokidar", one per request received. */
  readonly requests: readonly string[];
}

export async function startRequestRecorder(): Promise<RequestRecorder> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? "?"} ${req.url ?? "?"}`);
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"offline test registry"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("recorder has no address");
  closers.add(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${address.port}/`, requests };
}

export interface OfflineNpm {
  /** Runs `npm <args>` in `cwd`, offline; rejects unless npm exits 0. */
  (args: readonly string[], cwd: string): Promise<ProcessResult>;
  /** The recorder standing in for the registry. */
  readonly registry: RequestRecorder;
}

/** npm, offline, with its cache and config files under `stateDir` and its registry on 127.0.0.1. */
export async function offlineNpm(stateDir: string): Promise<OfflineNpm> {
  mkdirSync(stateDir, { recursive: true });
  // Two files: npm refuses to load one file as both its user and its global config.
  const userConfig = path.join(stateDir, "user.npmrc");
  const globalConfig = path.join(stateDir, "global.npmrc");
  writeFileSync(userConfig, "");
  writeFileSync(globalConfig, "");
  const registry = await startRequestRecorder();
  const env = childEnv({
    npm_config_registry: registry.url,
    npm_config_offline: "true",
    npm_config_cache: path.join(stateDir, "cache"),
    npm_config_userconfig: userConfig,
    npm_config_globalconfig: globalConfig,
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    npm_config_loglevel: "warn",
  });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const run = async (args: readonly string[], cwd: string): Promise<ProcessResult> => {
    // The flags repeat the environment on purpose: either alone keeps npm offline.
    const result = await runProcess(npm, [...args, "--offline", "--no-audit", "--no-fund"], { cwd, env, timeoutMs: 60_000 });
    if (result.code !== 0) {
      throw new Error(`npm ${args.join(" ")} (in ${cwd}) exited ${result.code ?? result.signal}:\n${result.stderr}\n${result.stdout}`);
    }
    return result;
  };
  return Object.assign(run, { registry });
}

/**
 * The files of an npm tarball (.tgz: gzip + ustar, pax headers honoured), by path inside the
 * tarball ("package/dist/index.js"). Directories are implied by the paths.
 */
export function readTarball(file: string): Map<string, Buffer> {
  const data = gunzipSync(readFileSync(file));
  const files = new Map<string, Buffer>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number): string => {
      const raw = header.subarray(start, start + length);
      const end = raw.indexOf(0);
      return raw.subarray(0, end < 0 ? length : end).toString("utf8");
    };
    const size = Number.parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1) || "0";
    const prefix = field(345, 155);
    const body = data.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      // pax extended header: "<len> key=value\n" records; only `path` matters here.
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString("utf8"))?.[1];
      continue;
    }
    if (type === "g") continue;
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    paxPath = undefined;
    if (type === "0" || type === "7") files.set(name, Buffer.from(body));
    else if (type !== "5") throw new Error(`${file}: unsupported tar entry type ${JSON.stringify(type)} for ${name}`);
  }
  return files;
}

/** The files of an npm tarball relative to its package/ folder, sorted. */
export function tarballFileList(file: string): string[] {
  return [...readTarball(file).keys()].map((name) => name.replace(/^package\//, "")).sort();
}

/** Extracts an npm tarball's package/ folder into `dest` (as npm lays a package out in node_modules). */
export function extractTarball(file: string, dest: string): void {
  const root = path.resolve(dest);
  for (const [name, body] of readTarball(file)) {
    if (!name.startsWith("package/")) throw new Error(`${file}: entry ${name} is outside package/`);
    const target = path.resolve(root, name.slice("package/".length));
    if (!target.startsWith(root + path.sep)) throw new Error(`${file}: entry ${name} escapes the package folder`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, body);
  }
}
