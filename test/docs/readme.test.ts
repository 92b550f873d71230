// README.md runs as written. Every fenced block is extracted with the decision the comment
// before it carries (test/docs/readme-blocks.ts lists them); a ts or sh block without one fails.
//   - run, TypeScript: written into a scratch project under os.tmpdir() as a user's project that
//     installed rpyc-ts (test/docs/project.ts: a copy of packages/rpyc-ts and its built dist/), its
//     package.json and tsconfig.json being the README's own; type-checked there, then run with tsx; its output
//     block, when the README shows one, must be exactly what it printed, and nothing may go to stderr.
//   - run, shell: with bash -e, in the repository (or the scratch project with `cwd: project`).
//     Repository commands may regenerate checked-in output (`-o examples/generated`): those
//     directories must be tracked by git and hold the same bytes afterwards (rpyc-gen rewrites
//     only files that differ, so fresh goldens are not touched; stale ones fail here as they fail
//     `npm test`'s --check). They run the built rpyc-gen: missing, it fails ("run npm run build");
//     older than compiler/ or templates/ (an edit loop without a build), the block is skipped
//     rather than let it rewrite the goldens with stale output. CI builds first (npm ci).
//   - typecheck: the prelude in the comment, then the block, in the same tsc run (strict, plus
//     noUncheckedIndexedAccess and exactOptionalPropertyTypes), errors reported at README lines.
//   - template: every command line shows a <placeholder>; never run.
//   - covered-by: install commands (`npm i rpyc-ts`, `npm i -D rpyc-gen`) cannot run offline
//     here; the named tests exist and name every package installed. test/package/packages.test.ts
//     installs the packed packages; this file's scratch project holds typescript, tsx and @types/node
//     (node_modules/typescript, node_modules/tsx and node_modules/@types/node of this repository).
//   - setup: `npm ci` and `npm test` are exactly what .ci/run runs (never run from a test);
//     `npm run demo` is run.
// Children run in their own process groups, bounded by generous timeouts (a wedged child is
// killed, nothing measures speed), and are all killed when the file ends. Nothing here sends a
// packet beyond 127.0.0.1/::1: the blocks that would (the registry on its default ports, etcd)
// are type-checked only. The Python block needs Python RPyC 5.3: skipped in the fast tier.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requirePythonRpyc, WITH_PYTHON } from "../helpers/python.js";
import { type Block, PLAIN_LANGS, readmeBlocks, SH_LANGS, shellCommands, TS_LANGS } from "./readme-blocks.js";
import { createProject, type Project, REPO, run, rpycGenDist, snapshot, TSC, TSX } from "./project.js";

const README = readFileSync(path.join(REPO, "README.md"), "utf8");
const blocks = readmeBlocks(README);
const PACKAGE_SCRIPTS = (JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

/** Generous bound for one child process (tsx, rpyc-gen, npm run ...) on a loaded 2-core machine. */
const CHILD_TIMEOUT = 120_000;
/** Per test: a bound for wedged children, not a speed assertion. */
const TEST_TIMEOUT = 180_000;
/** A placeholder the reader fills in: <host>, <out-dir>, <@scope/sdk-name>. */
const PLACEHOLDER = /<[^<>\s]+>/;

const where = (block: Block): string => `README.md:${block.line}`;
const fileOf = (block: Block): string => `readme-L${block.line}.ts`;

/** Ports differ from run to run: `127.0.0.1:41925` reads as `127.0.0.1:<port>`. */
function normalize(text: string): string[] {
  const lines = text
    .replace(/\b(127\.0\.0\.1|localhost|\[::1\]):\d+/g, "$1:<port>")
    .split("\n")
    .map((line) => line.trimEnd());
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}

/** The `-o DIR` outputs of shell commands, through `npm run` scripts. */
function outputDirs(commands: readonly string[]): string[] {
  return commands.flatMap((command) => {
    const script = /^npm run ([\w:-]+)$/.exec(command);
    if (script) return outputDirs((PACKAGE_SCRIPTS[script[1] ?? ""] ?? "").split("&&").map((c) => c.trim()));
    return [...command.matchAll(/(?:^|\s)(?:-o|--out)\s+(\S+)/g)].map((m) => m[1] ?? "");
  });
}

/**
 * Runs a shell script in the repository; the directories its commands write (`-o`) must exist,
 * be checked in, and hold the same bytes afterwards.
 */
async function runInRepo(script: string, commands: readonly string[], skip: (note: string) => never): Promise<string> {
  const dirs = outputDirs(commands);
  if (dirs.length > 0) {
    const dist = rpycGenDist();
    expect(dist, "packages/rpyc-gen/dist is missing: run npm run build (npm ci runs it)").not.toBe("missing");
    if (dist === "stale") skip("packages/rpyc-gen/dist is older than compiler/ or templates/: run npm run build to run this block");
  }
  for (const dir of dirs) {
    const tracked = execFileSync("git", ["ls-files", "--", dir], { cwd: REPO, encoding: "utf8" });
    expect(tracked, `${dir}: a README command may only regenerate files checked in with git`).not.toBe("");
  }
  const before = dirs.map((dir) => snapshot(path.join(REPO, dir)));
  const ran = await run("bash", ["-e", "-o", "pipefail", "-c", script], REPO, CHILD_TIMEOUT);
  expect(ran.code, `${script}\nexited ${ran.code ?? ran.signal}:\n${ran.stdout}\n${ran.stderr}`).toBe(0);
  dirs.forEach((dir, i) => {
    const after = snapshot(path.join(REPO, dir));
    const changed = [...new Set([...before[i]!.keys(), ...after.keys()])].filter((file) => before[i]!.get(file) !== after.get(file));
    expect(changed, `the block rewrote checked-in files in ${dir} (stale goldens? see git diff ${dir})`).toEqual([]);
  });
  return ran.stdout;
}

/** The output block that follows a run block (the next block, when it is marked `output`). */
function outputOf(block: Block): Block | undefined {
  const next = blocks[blocks.indexOf(block) + 1];
  return next?.directive?.treatment === "output" ? next : undefined;
}

describe("README.md: every block has a decided treatment", () => {
  it("finds the blocks", () => {
    expect(blocks.filter((b) => TS_LANGS.has(b.lang)).length).toBeGreaterThanOrEqual(5);
    expect(blocks.filter((b) => SH_LANGS.has(b.lang)).length).toBeGreaterThanOrEqual(5);
  });

  for (const block of blocks) {
    it(`${where(block)} ${block.lang || "(no language)"}: ${block.directive?.treatment ?? "no doc-test comment"}`, () => {
      expect(block.lang, `${where(block)}: a fence without a language; label it (ts, sh, text, json)`).not.toBe("");
      const treatment = block.directive?.treatment;
      if (TS_LANGS.has(block.lang)) {
        expect(["run", "typecheck", "template"], `${where(block)}: a TypeScript block needs <!-- doc-test: run | typecheck | template -->`).toContain(
          treatment,
        );
      } else if (SH_LANGS.has(block.lang)) {
        expect(
          ["run", "template", "covered-by", "setup"],
          `${where(block)}: a shell block needs <!-- doc-test: run | template | covered-by | setup -->`,
        ).toContain(treatment);
      } else {
        expect([...PLAIN_LANGS], `${where(block)}: the doc test has no treatment for '${block.lang}' blocks`).toContain(block.lang);
        if (treatment !== undefined) {
          const allowed = block.lang === "json" ? ["project-file"] : ["output", "output-of"];
          expect(allowed, `${where(block)}: '${treatment}' on a ${block.lang} block`).toContain(treatment);
        }
      }
      if (treatment === "typecheck") expect(block.directive?.options.get("why"), `${where(block)}: say why it is not run (why: ...)`).toBeTruthy();
      else expect(block.directive?.prelude ?? "", `${where(block)}: only a typecheck fragment has a prelude`).toBe("");
      if (treatment === "output") {
        const before = blocks[blocks.indexOf(block) - 1];
        expect(before?.directive?.treatment, `${where(block)}: an output block follows the run block it shows`).toBe("run");
      }
    });
  }
});

describe("README.md: templates and install commands", () => {
  for (const block of blocks.filter((b) => b.directive?.treatment === "template")) {
    it(`${where(block)}: every line shows a <placeholder>`, () => {
      for (const command of shellCommands(block.code)) expect(command, `${where(block)}: a template line without a <placeholder>`).toMatch(PLACEHOLDER);
    });
  }

  for (const block of blocks.filter((b) => b.directive?.treatment === "covered-by")) {
    it(`${where(block)}: covered by ${block.directive?.argument}`, () => {
      const files = (block.directive?.argument ?? "").split(",").map((f) => f.trim());
      expect(files.length).toBeGreaterThan(0);
      const texts = files.map((file) => {
        expect(existsSync(path.join(REPO, file)), `${where(block)}: ${file} does not exist`).toBe(true);
        return readFileSync(path.join(REPO, file), "utf8");
      });
      for (const command of shellCommands(block.code)) {
        const install = /^npm (?:i|install)(?: -D| --save-dev)? (.+)$/.exec(command);
        expect(install, `${where(block)}: '${command}' is not an npm install command`).not.toBeNull();
        for (const name of (install?.[1] ?? "").split(/\s+/)) {
          expect(
            texts.some((text) => text.includes(name)),
            `${where(block)}: no covering test names ${name}`,
          ).toBe(true);
        }
      }
    });
  }

  it("the project installs the README's packages: typescript, tsx and @types/node come from this repository", () => {
    for (const dir of ["node_modules/typescript", "node_modules/tsx", "node_modules/@types/node"]) expect(existsSync(path.join(REPO, dir)), dir).toBe(true);
  });
});

describe("README.md as a user runs it", () => {
  let project: Project | undefined;
  let typechecked: Promise<Map<string, string[]>> | undefined;
  const dir = (): string => {
    if (!project) throw new Error("the scratch project was not created");
    return project.dir;
  };

  beforeAll(() => {
    project = createProject();
    console.info(
      `README project in ${project.dir}: rpyc-ts ${project.runtime === "copied" ? "copied from packages/rpyc-ts" : "built from runtime/ (newer than packages/rpyc-ts/dist)"}`,
    );
    for (const block of blocks.filter((b) => b.directive?.treatment === "project-file")) {
      JSON.parse(block.code); // a README json block must be valid JSON
      writeFileSync(path.join(project.dir, block.directive?.argument ?? ""), `${block.code}\n`);
    }
    for (const name of ["package.json", "tsconfig.json"]) {
      if (!existsSync(path.join(project.dir, name))) throw new Error(`README.md shows no ${name} for the project (<!-- doc-test: project-file ${name} -->)`);
    }
    const prelude = (block: Block): string => (block.directive?.treatment === "typecheck" ? block.directive.prelude : "");
    for (const block of blocks.filter((b) => TS_LANGS.has(b.lang) && ["run", "typecheck"].includes(b.directive?.treatment ?? ""))) {
      const given = prelude(block);
      writeFileSync(path.join(project.dir, fileOf(block)), given ? `${given}\n${block.code}\n` : `${block.code}\n`);
    }
  }, TEST_TIMEOUT);

  afterAll(() => project?.remove());

  /** One tsc run over every TypeScript block; its diagnostics by file, at README lines. */
  function typecheck(): Promise<Map<string, string[]>> {
    typechecked ??= (async () => {
      const strictest = ["--noUncheckedIndexedAccess", "--exactOptionalPropertyTypes"];
      const ran = await run(process.execPath, [TSC, "-p", "tsconfig.json", "--noEmit", "--pretty", "false", ...strictest], dir(), CHILD_TIMEOUT);
      const byFile = new Map<string, string[]>();
      for (const line of `${ran.stdout}${ran.stderr}`.split("\n").filter(Boolean)) {
        const match = /^(readme-L(\d+)\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
        const block = match ? blocks.find((b) => fileOf(b) === match[1]) : undefined;
        if (!match || !block) {
          byFile.set("", [...(byFile.get("") ?? []), line]);
          continue;
        }
        const preludeLines = block.directive?.treatment === "typecheck" && block.directive.prelude ? block.directive.prelude.split("\n").length : 0;
        const readmeLine = Number(match[3]) - preludeLines - 1 + block.line;
        const message =
          Number(match[3]) <= preludeLines ? `in the prelude of README.md:${block.line}: ${match[5]}` : `README.md:${readmeLine}:${match[4]}: ${match[5]}`;
        byFile.set(match[1] ?? "", [...(byFile.get(match[1] ?? "") ?? []), message]);
      }
      if (ran.code !== 0 && byFile.size === 0) byFile.set("", [`tsc exited ${ran.code ?? ran.signal}`]);
      return byFile;
    })();
    return typechecked;
  }

  it(
    "type-checks every TypeScript block as the README's tsconfig.json says, with nothing outside the blocks failing",
    async () => {
      expect((await typecheck()).get("") ?? []).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  for (const block of blocks) {
    const directive = block.directive;
    if (!directive) continue;
    const name = `${where(block)} ${block.lang}: ${directive.treatment}${directive.argument ? ` ${directive.argument}` : ""}`;

    if (TS_LANGS.has(block.lang) && (directive.treatment === "run" || directive.treatment === "typecheck")) {
      it(
        `${name}: type-checks`,
        async () => {
          expect((await typecheck()).get(fileOf(block)) ?? []).toEqual([]);
        },
        TEST_TIMEOUT,
      );
    }

    if (TS_LANGS.has(block.lang) && directive.treatment === "run") {
      it(
        `${name}: runs with tsx${outputOf(block) ? " and prints what README.md shows" : ""}`,
        async () => {
          const ran = await run(process.execPath, [TSX, fileOf(block)], dir(), CHILD_TIMEOUT);
          expect(ran.code, `${where(block)} exited ${ran.code ?? ran.signal}:\n${ran.stdout}\n${ran.stderr}`).toBe(0);
          expect(ran.stderr, `${where(block)} wrote to stderr`).toBe("");
          const output = outputOf(block);
          if (output) expect(normalize(ran.stdout)).toEqual(normalize(output.code));
        },
        TEST_TIMEOUT,
      );
    }

    if (SH_LANGS.has(block.lang) && directive.treatment === "run") {
      const needsPython = directive.options.get("needs") === "python";
      it.runIf(!needsPython || WITH_PYTHON)(
        `${name}${needsPython ? " (Python RPyC 5.3; not in the fast tier)" : ""}`,
        async ({ skip }) => {
          if (needsPython) requirePythonRpyc();
          const commands = shellCommands(block.code);
          let stdout: string;
          if (directive.options.get("cwd") === "project") {
            const ran = await run("bash", ["-e", "-o", "pipefail", "-c", block.code], dir(), CHILD_TIMEOUT);
            expect(ran.code, `${where(block)} exited ${ran.code ?? ran.signal}:\n${ran.stdout}\n${ran.stderr}`).toBe(0);
            stdout = ran.stdout;
          } else {
            expect(directive.options.get("cwd") ?? "repository", `${where(block)}: cwd is 'project' or the repository`).toBe("repository");
            stdout = await runInRepo(block.code, commands, skip);
          }
          const output = outputOf(block);
          if (output) expect(normalize(stdout)).toEqual(normalize(output.code));
        },
        TEST_TIMEOUT,
      );
    }

    if (directive.treatment === "output-of") {
      it(
        `${name}: the lines appear, in order, in what it prints`,
        async ({ skip }) => {
          const command = directive.argument;
          expect(command, `${where(block)}: output-of runs a package.json script (npm run <script>)`).toMatch(/^npm run [\w:-]+$/);
          const stdout = normalize(await runInRepo(command, [command], skip));
          const expected = normalize(block.code);
          const start = stdout.indexOf(expected[0] ?? "");
          expect(start, `${where(block)}: '${expected[0]}' not in:\n${stdout.join("\n")}`).toBeGreaterThanOrEqual(0);
          expect(stdout.slice(start, start + expected.length)).toEqual(expected);
        },
        TEST_TIMEOUT,
      );
    }

    if (directive.treatment === "setup") {
      it(
        `${name}: npm ci and npm test are what .ci/run runs; the rest runs`,
        async ({ skip }) => {
          const ci = readFileSync(path.join(REPO, ".ci/run"), "utf8")
            .split("\n")
            .map((line) => line.trim());
          const commands = shellCommands(block.code).flatMap((line) => line.split("&&").map((c) => c.trim()));
          expect(commands).toEqual(expect.arrayContaining(["npm ci", "npm test"]));
          // Never run from a test (one would reinstall node_modules under every other test, the other run this test).
          for (const command of ["npm ci", "npm test"]) {
            expect(
              ci.some((line) => line === command || line.startsWith(`${command} `)),
              `.ci/run does not run '${command}'`,
            ).toBe(true);
          }
          for (const command of commands.filter((c) => c !== "npm ci" && c !== "npm test")) {
            expect(command, `${where(block)}: a set-up command the doc test does not know`).toMatch(/^npm run [\w:-]+$/);
            await runInRepo(command, [command], skip);
          }
        },
        TEST_TIMEOUT,
      );
    }
  }
});
