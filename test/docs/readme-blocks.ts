// README.md's fenced blocks and the decision each carries: an HTML comment right before the
// block (invisible when rendered) says what the doc test does with it.
//
//   <!-- doc-test: run -->                   run as written (ts: in the scratch project with tsx, and
//                                            type-checked; sh: with bash, in the repository)
//   <!-- doc-test: run; cwd: project -->     a shell block run in the scratch project instead
//   <!-- doc-test: run; needs: python -->    only where Python RPyC runs (not in the fast tier)
//   <!-- doc-test: output -->                (text) what the run block before it prints, compared line by line
//   <!-- doc-test: output-of npm run X -->   (text) lines that `npm run X` prints, in order
//   <!-- doc-test: typecheck; why: ...       a fragment, type-checked with the prelude on the
//   import type { Connection } from "rpyc-ts";   comment's next lines; `why` says why it is not run
//   -->
//   <!-- doc-test: template -->              not runnable by design: every command line shows a <placeholder>
//   <!-- doc-test: covered-by F1, F2 -->     install commands: the files exist and name every package installed
//   <!-- doc-test: setup -->                 the README's two set-up commands (see readme.test.ts)
//   <!-- doc-test: project-file NAME -->     (json) written into the scratch project as NAME
//
// Every ts/sh block needs one of these; a block without a language is an error, so no command
// can hide in an unlabelled fence.

export type Treatment = "run" | "output" | "output-of" | "typecheck" | "template" | "covered-by" | "setup" | "project-file";

const TREATMENTS: readonly Treatment[] = ["run", "output", "output-of", "typecheck", "template", "covered-by", "setup", "project-file"];

export interface Directive {
  readonly treatment: Treatment;
  /** What follows the treatment's name on the first line (covered-by's files, project-file's name, output-of's command). */
  readonly argument: string;
  /** `key: value` options of the first line (`cwd`, `needs`, `why`). */
  readonly options: ReadonlyMap<string, string>;
  /** The comment's further lines: a typecheck fragment's prelude. */
  readonly prelude: string;
}

export interface Block {
  /** The language of the fence ("ts", "sh", "text", ...; "" when none is given). */
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the first code line in README.md. */
  readonly line: number;
  readonly directive: Directive | undefined;
}

export const TS_LANGS = new Set(["ts", "typescript"]);
export const SH_LANGS = new Set(["sh", "bash", "shell"]);
/** Languages with nothing to run: output, data and file maps. */
export const PLAIN_LANGS = new Set(["text", "json"]);

/** A directive's comment ends on the line before the fence (blank lines between are allowed). */
function directiveBefore(lines: readonly string[], fence: number): Directive | undefined {
  let end = fence - 1;
  while (end >= 0 && lines[end]?.trim() === "") end--;
  if (end < 0 || !lines[end]?.trimEnd().endsWith("-->")) return undefined;
  let start = end;
  while (start >= 0 && !lines[start]?.includes("<!--")) start--;
  const comment = lines
    .slice(start, end + 1)
    .join("\n")
    .replace(/^\s*<!--/, "")
    .replace(/-->\s*$/, "");
  const match = /^\s*doc-test:\s*(.*)$/m.exec(comment);
  if (!match || start < 0) return undefined;
  const [first = "", ...rest] = comment.slice(match.index).trim().split("\n");
  const [head = "", ...optionParts] = first
    .replace(/^doc-test:\s*/, "")
    .split(";")
    .map((part) => part.trim());
  const [name = "", ...argument] = head.split(/\s+/);
  if (!(TREATMENTS as readonly string[]).includes(name)) {
    throw new Error(`README.md:${fence + 1}: unknown doc-test treatment '${name}' (known: ${TREATMENTS.join(", ")})`);
  }
  const options = new Map<string, string>();
  for (const part of optionParts.filter(Boolean)) {
    const option = /^([a-z-]+):\s*(.*)$/.exec(part);
    if (!option) throw new Error(`README.md:${fence + 1}: doc-test option '${part}' is not 'key: value'`);
    options.set(option[1] ?? "", option[2] ?? "");
  }
  return { treatment: name as Treatment, argument: argument.join(" "), options, prelude: rest.join("\n").trim() };
}

/** Every fenced block of a Markdown text, in order. */
export function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i] ?? "");
    if (!open) continue;
    const fence = open[2] ?? "```";
    let close = i + 1;
    while (close < lines.length && !(lines[close] ?? "").trim().startsWith(fence)) close++;
    if (close >= lines.length) throw new Error(`README.md:${i + 1}: the fence opened here is never closed`);
    blocks.push({ lang: (open[3] ?? "").toLowerCase(), code: lines.slice(i + 1, close).join("\n"), line: i + 2, directive: directiveBefore(lines, i) });
    i = close;
  }
  return blocks;
}

/** A block's shell commands: comment-only and blank lines dropped, trailing `# comments` cut. */
export function shellCommands(code: string): string[] {
  return code
    .split("\n")
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter(Boolean);
}
