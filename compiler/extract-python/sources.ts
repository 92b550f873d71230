// Which .py/.pyi files a Python extraction reads: files, directories (searched recursively)
// and globs (`*`, `**`, `?`, `{a,b}`; a leading `!` excludes), relative to the root.

import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { toPosix } from "../common.js";

const PYTHON_FILE = /\.pyi?$/;
/** Directories never searched: caches, virtual environments, VCS data, node_modules. */
const SKIPPED_DIRS = new Set(["__pycache__", "node_modules", ".git", ".venv", "venv", ".tox", ".mypy_cache"]);

export interface ResolvedSources {
  /** Absolute paths, posix separators, sorted, without duplicates. */
  readonly files: readonly string[];
  /** Sources (as given) that matched no Python file. */
  readonly unmatched: readonly string[];
}

export function resolvePythonSources(sources: readonly string[], root: string): ResolvedSources {
  const absolute = (source: string): string => toPosix(path.resolve(root, source));
  const excluded = sources.filter((s) => s.startsWith("!")).map((s) => globRegExp(absolute(s.slice(1))));
  const files = new Set<string>();
  const unmatched: string[] = [];
  for (const source of sources) {
    if (source.startsWith("!")) continue;
    const pattern = absolute(source);
    let matched: string[];
    if (!isGlob(pattern)) {
      if (!existsSync(pattern)) matched = [];
      else if (statSync(pattern).isDirectory()) matched = walk(pattern).filter((f) => PYTHON_FILE.test(f));
      else matched = PYTHON_FILE.test(pattern) ? [pattern] : [];
    } else {
      const matcher = globRegExp(pattern);
      matched = walk(staticPrefix(pattern)).filter((f) => PYTHON_FILE.test(f) && matcher.test(f));
    }
    matched = matched.filter((f) => !excluded.some((re) => re.test(f)));
    if (matched.length === 0) unmatched.push(source);
    for (const file of matched) files.add(file);
  }
  if (!sources.some((s) => !s.startsWith("!"))) unmatched.push(".");
  return { files: [...files].sort(), unmatched };
}

function isGlob(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/** The directory part of a glob before its first wildcard: where the search starts. */
function staticPrefix(pattern: string): string {
  const parts = pattern.split("/");
  const fixed: string[] = [];
  for (const part of parts) {
    if (isGlob(part)) break;
    fixed.push(part);
  }
  return fixed.join("/") || "/";
}

/** Every file under `dir` (absolute, posix), skipping SKIPPED_DIRS; bounded by the tree itself. */
function walk(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const found: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = `${current.replace(/\/$/, "")}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) pending.push(full);
      } else if (entry.isFile()) found.push(full);
    }
  }
  return found;
}

/** A glob as a regular expression over absolute posix paths: `**` spans directories, `*` and `?` do not. */
export function globRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const slash = glob[i + 2] === "/";
        re += slash ? "(?:.*/)?" : ".*";
        i += slash ? 2 : 1;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "{") {
      const end = glob.indexOf("}", i);
      if (end < 0) re += "\\{";
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(",")
          .map(escapeRegExp)
          .join("|")})`;
        i = end;
      }
    } else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
