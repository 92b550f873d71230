// Packs this repository's packages (packages/rpyc-ts, packages/rpyc-gen) as `npm pack` would
// publish them, without writing into the repository: each is staged in a scratch folder
// (package.json, README.md, LICENSE, bin/ and dist/). dist/ is copied when it is newer than
// every source it is built from (as after `npm ci`, whose "prepare" builds it), and rebuilt
// into the stage otherwise, so an edit-then-test loop never packs stale JavaScript.

import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildPackage, PACKAGES, type PackageName } from "../../scripts/build-packages.js";
import type { OfflineNpm } from "./offline-npm.js";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** The newest modification time of the files under `dir` (recursively). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(child) : statSync(child).mtimeMs);
  }
  return newest;
}

/** The oldest modification time of the files under `dir`, or -Infinity when it does not exist. */
function oldestMtime(dir: string): number {
  if (!existsSync(dir)) return Number.NEGATIVE_INFINITY;
  let oldest = Number.POSITIVE_INFINITY;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    oldest = Math.min(oldest, entry.isDirectory() ? oldestMtime(child) : statSync(child).mtimeMs);
  }
  return oldest;
}

function distIsFresh(name: PackageName): boolean {
  const sources = [path.join(REPO, PACKAGES[name]), ...(name === "rpyc-gen" ? [path.join(REPO, "templates")] : [])];
  return oldestMtime(path.join(REPO, "packages", name, "dist")) >= Math.max(...sources.map(newestMtime));
}

/** `npm pack` of a folder into `pkgs`; returns the tarball's path. */
export async function packDir(npm: OfflineNpm, dir: string, pkgs: string): Promise<string> {
  const { stdout } = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", pkgs], dir);
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  if (!packed) throw new Error(`npm pack printed no result: ${stdout}`);
  return path.join(pkgs, packed.filename);
}

/** Stages packages/<name> in `stage` and packs it into `pkgs`; returns the tarball's path. */
export async function packWorkspace(npm: OfflineNpm, name: PackageName, stage: string, pkgs: string): Promise<string> {
  const source = path.join(REPO, "packages", name);
  mkdirSync(stage, { recursive: true });
  for (const file of ["package.json", "README.md", "bin"]) cpSync(path.join(source, file), path.join(stage, file), { recursive: true });
  cpSync(path.join(REPO, "LICENSE"), path.join(stage, "LICENSE"));
  if (distIsFresh(name)) cpSync(path.join(source, "dist"), path.join(stage, "dist"), { recursive: true });
  else buildPackage(name, path.join(stage, "dist"));
  return packDir(npm, stage, pkgs);
}

/** The bytes of every file under `dir` (as `du --apparent-size` counts them; links not followed). */
export function installedBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) total += installedBytes(child);
    else if (entry.isFile()) total += statSync(child).size;
  }
  return total;
}
