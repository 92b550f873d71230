// `npm run goldens:update`: regenerates every golden fixture's expected/ with rpyc-gen itself
// (its CLI, in-process, from the repository root, so every path in the output is relative).
// expected/ is emptied first, so a file rpyc-gen no longer writes disappears too. Review the
// diff afterwards: goldens are reviewed like code. test/compiler/golden.test.ts fails until the
// checked-in files match what rpyc-gen generates.
//
//   npm run goldens:update              every fixture
//   npm run goldens:update -- seed      only the named fixtures

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT, run, type CliIO } from "../compiler/cli/index.js";
import { DIAGNOSTICS_FILE, FIXTURES, expectedDir, rpycGenArgs, type GoldenFixture } from "../fixtures/manifest.js";

const REPO = path.resolve(fileURLToPath(new URL("..", import.meta.url)));

interface Captured extends CliIO {
  out: string;
  err: string;
}

function capture(): Captured {
  const io: Captured = {
    cwd: REPO,
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

/** Regenerates one fixture; returns a problem to report, or undefined. */
async function update(fixture: GoldenFixture): Promise<string | undefined> {
  const expected = path.join(REPO, expectedDir(fixture));
  rmSync(expected, { recursive: true, force: true });
  const io = capture();
  const { code } = await run(rpycGenArgs(fixture), io);
  if (fixture.refused) {
    if (code !== EXIT.DIAGNOSTICS) return `expected rpyc-gen to refuse the sources (exit ${EXIT.DIAGNOSTICS}), got exit ${code}\n${io.err}`;
    const codes = new Set([...io.err.matchAll(/^\S+:\d+:\d+: error (\w+): /gm)].map((m) => m[1]));
    if (codes.size !== 1 || !codes.has(fixture.refused)) return `expected only ${fixture.refused}, got:\n${io.err}`;
    // Nothing else may be in expected/: a refused run writes nothing.
    rmSync(expected, { recursive: true, force: true });
    mkdirSync(expected, { recursive: true });
    writeFileSync(path.join(expected, DIAGNOSTICS_FILE), io.err);
    return undefined;
  }
  if (code !== EXIT.OK) return `rpyc-gen exited ${code}\n${io.err}`;
  return undefined;
}

const only = process.argv.slice(2);
const unknown = only.filter((name) => !FIXTURES.some((f) => f.name === name));
if (unknown.length > 0) {
  console.error(`update-goldens: no fixture named ${unknown.join(", ")} (have ${FIXTURES.map((f) => f.name).join(", ")})`);
  process.exit(2);
}
let failed = 0;
for (const fixture of FIXTURES) {
  if (only.length > 0 && !only.includes(fixture.name)) continue;
  const problem = await update(fixture);
  if (problem) {
    failed++;
    console.error(`✗ ${fixture.name}: ${problem}`);
  } else {
    console.log(`✓ ${fixture.name} -> ${expectedDir(fixture)}${fixture.refused ? `/${DIAGNOSTICS_FILE}` : "/"}`);
  }
}
if (failed > 0) {
  console.error(`update-goldens: ${failed} fixture(s) failed`);
  process.exitCode = 1;
} else {
  console.log("update-goldens: done; review the changes with git diff fixtures/");
}
