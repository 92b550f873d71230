// `rpyc-gen diff` run in-process (runDiff) on model.json files written to a temp directory,
// on TypeScript (and Python) sources, and on bad input: output, --json, exit codes.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DIFF_EXIT, runDiff } from "../../compiler/cli/diff.js";
import { diffModels, type DiffReport } from "../../compiler/diff.js";
import type { ServiceModel } from "../../compiler/model.js";
import { captureIO as io } from "../helpers/cli-io.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(path.join(os.tmpdir(), "rpyc-diff-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const RICH = "fixtures/rich-types/expected/model.json";
const rich = (): ServiceModel => JSON.parse(readFileSync(path.join(REPO, RICH), "utf8")) as ServiceModel;

let counter = 0;
/** Writes `contents` to a new file in the scratch directory; returns its absolute path. */
function scratchFile(name: string, contents: string): string {
  const dir = path.join(scratch, `case-${++counter}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, contents);
  return file;
}

/** rich-types with Address gaining a field, checksum removed and a new optional parameter: breaking and safe changes. */
function evolvedRich(): ServiceModel {
  const model = rich();
  const types = model.types.map((t) =>
    t.name === "Address" && t.kind === "object"
      ? { ...t, fields: [...t.fields, { name: "state", type: { kind: "string" as const }, optional: true, readonly: false }] }
      : t,
  );
  const services = model.services.map((s) => ({
    ...s,
    methods: s.methods
      .filter((m) => m.name !== "checksum")
      .map((m) => (m.name === "shift" ? { ...m, params: [...m.params, { name: "zone", type: { kind: "string" as const }, optional: true, rest: false }] } : m)),
  }));
  return { ...model, types, services };
}

function onlySafe(): ServiceModel {
  const model = rich();
  return { ...model, services: model.services.map((s) => ({ ...s, aliases: [...s.aliases, "PEOPLE"] })) };
}

describe("rpyc-gen diff on model.json files", () => {
  it("exits 0 with no changes between a model and a directory holding the same model", async () => {
    const c = io();
    expect(await runDiff(["fixtures/rich-types/expected", RICH], c)).toBe(DIFF_EXIT.OK);
    expect(c.out).toBe("rpyc-gen diff: no changes\n");
    expect(c.err).toBe("");
  });

  it("exits 1 on breaking changes, printing breaking lines first, then safe ones, then a summary", async () => {
    const next = scratchFile("model.json", JSON.stringify(evolvedRich()));
    const c = io();
    expect(await runDiff([RICH, next], c)).toBe(DIFF_EXIT.BREAKING);
    const lines = c.out.trimEnd().split("\n");
    const report = diffModels(rich(), evolvedRich());
    expect(lines).toHaveLength(report.entries.length + 1);
    const kinds = lines.slice(0, -1).map((l) => l.split(" ")[0]);
    expect(kinds).toEqual([...kinds].sort()); // every BREAKING line before every SAFE line
    expect(kinds).toContain("SAFE");
    expect(lines).toContain("BREAKING DirectoryService.checksum: method 'checksum' removed (fixtures/rich-types/directory-service.ts:98)");
    expect(lines.find((l) => l.startsWith("BREAKING DirectoryService.relocate(address).state:"))).toMatch(
      /optional field 'state' of Address added.*\(fixtures\/rich-types\/types\.ts:\d+\)$/,
    );
    expect(lines.find((l) => l.startsWith("SAFE DirectoryService.shift(zone):"))).toMatch(/optional parameter 'zone' added/);
    expect(lines.at(-1)).toBe(`rpyc-gen diff: ${report.breaking} breaking changes, ${report.safe} safe change${report.safe === 1 ? "" : "s"}`);
  });

  it("--allow-breaking prints the same and exits 0", async () => {
    const next = scratchFile("model.json", JSON.stringify(evolvedRich()));
    const strict = io();
    const allowed = io();
    expect(await runDiff([RICH, next], strict)).toBe(DIFF_EXIT.BREAKING);
    expect(await runDiff([RICH, next, "--allow-breaking"], allowed)).toBe(DIFF_EXIT.OK);
    expect(allowed.out.split("\n").filter((l) => l.startsWith("BREAKING"))).toEqual(strict.out.split("\n").filter((l) => l.startsWith("BREAKING")));
    expect(allowed.out).toMatch(/\(allowed by --allow-breaking\)\n$/);
  });

  it("exits 0 when every change is safe", async () => {
    const next = scratchFile("model.json", JSON.stringify(onlySafe()));
    const c = io();
    expect(await runDiff([RICH, next], c)).toBe(DIFF_EXIT.OK);
    expect(c.out).toBe(
      "SAFE DirectoryService: alias PEOPLE added (fixtures/rich-types/directory-service.ts:18)\nrpyc-gen diff: 0 breaking changes, 1 safe change\n",
    );
  });

  it("--json writes the report, and only the report, to stdout", async () => {
    const next = scratchFile("model.json", JSON.stringify(evolvedRich()));
    const c = io();
    expect(await runDiff(["--json", RICH, next], c)).toBe(DIFF_EXIT.BREAKING);
    const parsed = JSON.parse(c.out) as DiffReport;
    expect(parsed).toEqual(JSON.parse(JSON.stringify(diffModels(rich(), evolvedRich()))));
    expect(parsed.entries.every((e) => typeof e.code === "string" && (e.severity === "breaking" || e.severity === "safe"))).toBe(true);
  });

  it("compares every fixture model with itself without changes", async () => {
    for (const fixture of ["aliases", "callbacks", "inheritance", "package", "seed"]) {
      const c = io();
      expect([fixture, await runDiff([`fixtures/${fixture}/expected`, `fixtures/${fixture}/expected/model.json`], c)]).toEqual([fixture, DIFF_EXIT.OK]);
    }
  });
});

// "rpyc-ts" does not resolve from the temp directory; the extractor recognises its Service by the import alone (and reads no runtime sources, which keeps this fast).
const RUNTIME = "rpyc-ts";
const calcSource = (addParams: string, extra = ""): string =>
  `import { Service } from ${JSON.stringify(RUNTIME)};\n${extra}\nexport class CalcService extends Service {\n  exposed_add(${addParams}): number {\n    return 0;\n  }\n}\n`;

describe("rpyc-gen diff on TypeScript sources", () => {
  it("extracts both sides from directories of sources", async () => {
    const oldFile = scratchFile("calc-service.ts", calcSource("a: number, b: number"));
    const newFile = scratchFile("calc-service.ts", calcSource("a: number, b: number, c: number"));
    const c = io();
    expect(await runDiff([path.dirname(oldFile), path.dirname(newFile)], c)).toBe(DIFF_EXIT.BREAKING);
    expect(c.out).toMatch(/^BREAKING CalcService\.add\(c\): parameter 'c' added without a default; old callers do not pass it \(.*calc-service\.ts:4\)\n/);
  });

  it("warns when a side's sources hold no service (generated stubs without model.json, say)", async () => {
    const stubOnly = scratchFile("x.client.ts", "export interface XRemote { f(): Promise<number> }\n");
    const c = io();
    expect(await runDiff(["fixtures/seed/expected", path.dirname(stubOnly)], c)).toBe(DIFF_EXIT.BREAKING);
    expect(c.err).toMatch(/new side: no service classes found/);
    expect(c.out).toMatch(/^BREAKING MyService: service MY \(MyService\) removed/);
  });

  it("takes several files per side with repeatable --old/--new", async () => {
    const types = (fields: string): string => `export interface Sum { ${fields} }\n`;
    const service = `import { Service } from ${JSON.stringify(RUNTIME)};\nimport type { Sum } from "./sum.js";\nexport class SumService extends Service {\n  exposed_sum(): Sum {\n    return { total: 0 } as Sum;\n  }\n}\n`;
    const oldService = scratchFile("sum-service.ts", service);
    writeFileSync(path.join(path.dirname(oldService), "sum.ts"), types("total: number"));
    const newService = scratchFile("sum-service.ts", service);
    writeFileSync(path.join(path.dirname(newService), "sum.ts"), types("total: number | null"));
    const c = io();
    const code = await runDiff(
      [
        "--old",
        oldService,
        "--old",
        path.join(path.dirname(oldService), "sum.ts"),
        "--new",
        newService,
        "--new",
        path.join(path.dirname(newService), "sum.ts"),
      ],
      c,
    );
    expect(c.err).toBe("");
    expect(code).toBe(DIFF_EXIT.BREAKING);
    expect(c.out).toMatch(/^BREAKING SumService\.sum\(\)\.total: may now be None, which old clients do not expect: number -> number \| null/);
  });

  it("finds no change between the seed service's source and its stored model", async () => {
    const c = io();
    expect(await runDiff(["fixtures/seed/expected/model.json", "fixtures/seed/my-service.ts", "--project", "tsconfig.json"], c)).toBe(DIFF_EXIT.OK);
    expect(c.out).toBe("rpyc-gen diff: no changes\n");
  });

  it("exits 2 with the diagnostics when a side's sources have errors", async () => {
    const broken = scratchFile(
      "names-service.ts",
      `import { Service } from "rpyc-ts";\nconst NAMES = ["names"];\nexport class NamesService extends Service {\n  static ALIASES = NAMES;\n}\n`,
    );
    const c = io();
    expect(await runDiff([broken, "fixtures/seed/expected"], c)).toBe(DIFF_EXIT.EXTRACT);
    expect(c.err).toMatch(/names-service\.ts:\d+:\d+: error RPYC_NON_LITERAL_ALIASES/);
    expect(c.err).toMatch(/old side: the sources have errors/);
    expect(c.out).toBe("");
  });

  it("reads Python sources through the Python extractor", async () => {
    const c = io();
    expect(await runDiff(["fixtures/python-seed/my_service.py", "fixtures/python-seed/expected/model.json"], c)).toBe(DIFF_EXIT.OK);
    expect(c.out).toBe("rpyc-gen diff: no changes\n");
    const dir = io();
    expect(await runDiff(["fixtures/python-seed", "fixtures/python-seed/expected"], dir)).toBe(DIFF_EXIT.OK);
    const typed = io();
    expect(await runDiff(["fixtures/python-typed/shop_service.py", "fixtures/python-typed/expected"], typed)).toBe(DIFF_EXIT.OK);
    expect(typed.out).toBe("rpyc-gen diff: no changes\n");
  });

  it("judges Python typing: list items, TypedDict keys, keyword-only parameters", async () => {
    const header = "from typing import NotRequired, TypedDict\nfrom rpyc import Service\n\n";
    const v1 = scratchFile(
      "shop.py",
      `${header}class Stock(TypedDict):\n    name: str\n    count: int\n\nclass ShopService(Service):\n    def exposed_names(self) -> list[int]: ...\n    def exposed_stock(self) -> Stock: ...\n    def exposed_greet(self, *, greeting: str) -> str: ...\n`,
    );
    const v2 = scratchFile(
      "shop.py",
      `${header}class Stock(TypedDict):\n    name: str\n    aisle: NotRequired[int]\n\nclass ShopService(Service):\n    def exposed_names(self) -> list[str]: ...\n    def exposed_stock(self) -> Stock: ...\n    def exposed_greet(self, *, greeting: str = "Hi", times: int = 1) -> str: ...\n`,
    );
    const c = io();
    expect(await runDiff([v1, v2], c)).toBe(DIFF_EXIT.BREAKING);
    const lines = c.out
      .trimEnd()
      .split("\n")
      .map((l) => l.replace(/ \([^ ()]*shop\.py:\d+\)$/, ""));
    expect(lines).toEqual([
      "BREAKING ShopService.names()[]: may now be string, which old clients do not expect: number | bigint -> string; a netref's items are read and written through it (invariant)",
      "BREAKING ShopService.names()[]: no longer accepts number or bigint: number | bigint -> string; a netref's items are read and written through it (invariant)",
      `BREAKING ShopService.stock()["count"]: key 'count' of Stock removed; old clients read it`,
      "SAFE ShopService.greet(greeting=): keyword 'greeting' became optional",
      "SAFE ShopService.greet(times=): optional keyword 'times' added",
      `SAFE ShopService.stock()["aisle"]: optional key 'aisle' of Stock added`,
      "rpyc-gen diff: 3 breaking changes, 3 safe changes",
    ]);
  });
});

describe("rpyc-gen diff on bad input", () => {
  it("exits 4 for a path that does not exist and for a glob that matches nothing", async () => {
    const missing = io();
    expect(await runDiff(["no/such/model.json", RICH], missing)).toBe(DIFF_EXIT.IO);
    expect(missing.err).toBe("rpyc-gen diff: old side: cannot read 'no/such/model.json': no such file or directory\n");
    const glob = io();
    expect(await runDiff([RICH, path.join(scratch, "nothing-here-*.ts")], glob)).toBe(DIFF_EXIT.IO);
    expect(glob.err).toMatch(/RPYC_NO_INPUT/);
  });

  it("exits 2 for a model.json that is not JSON or not a ServiceModel", async () => {
    const cases: [string, RegExp][] = [
      ["{ not json", /is not JSON/],
      [JSON.stringify({ ...rich(), version: 2 }), /version 2, expected 1/],
      [JSON.stringify({ version: 1, services: [] }), /no services or types list/],
      [
        JSON.stringify({
          version: 1,
          types: [],
          services: [
            { className: "X", name: "X", aliases: ["X"], methods: [{ name: "f", params: [], returns: { kind: "ref", name: "Ghost" } }], attributes: [] },
          ],
        }),
        /type 'Ghost'/,
      ],
      [
        JSON.stringify({
          version: 1,
          types: [],
          services: [
            {
              className: "X",
              name: "X",
              aliases: ["X"],
              methods: [{ name: "f", params: [{ name: "t", type: { kind: "tuple" } }], returns: { kind: "null" } }],
              attributes: [],
            },
          ],
        }),
        /not a ServiceModel/,
      ],
      [
        JSON.stringify({
          version: 1,
          types: [],
          services: [
            {
              className: "X",
              name: "X",
              aliases: ["X"],
              methods: [{ name: "f", params: [], returns: { kind: "netref", name: "builtins.dict", args: [{ kind: "ref", name: "Ghost" }] } }],
              attributes: [],
            },
          ],
        }),
        /type 'Ghost'/,
      ],
      [
        JSON.stringify({
          version: 1,
          types: [],
          services: [
            {
              className: "X",
              name: "X",
              aliases: ["X"],
              methods: [{ name: "f", params: [], returns: { kind: "netref", name: "builtins.list", args: "int" } }],
              attributes: [],
            },
          ],
        }),
        /method of X is malformed/,
      ],
      [
        JSON.stringify({
          version: 1,
          types: [],
          services: [
            {
              className: "X",
              name: "X",
              aliases: ["X"],
              methods: [{ name: "f", params: [], keywordOnly: { name: "k" }, returns: { kind: "null" } }],
              attributes: [],
            },
          ],
        }),
        /X\.f has a malformed parameter/,
      ],
      [
        JSON.stringify({
          version: 1,
          types: [],
          services: [
            {
              className: "X",
              name: "X",
              aliases: ["X"],
              methods: [{ name: "f", params: [], keywordRest: { name: "kw" }, returns: { kind: "null" } }],
              attributes: [],
            },
          ],
        }),
        /X\.f has a malformed parameter/,
      ],
    ];
    for (const [contents, message] of cases) {
      const file = scratchFile("model.json", contents);
      const c = io();
      expect(await runDiff([file, RICH], c)).toBe(DIFF_EXIT.EXTRACT);
      expect(c.err).toMatch(message);
    }
  });

  it("exits 3 on a bad command line", async () => {
    const argvs: string[][] = [
      [],
      [RICH],
      [RICH, RICH, RICH],
      [RICH, RICH, "--old", RICH],
      ["--old", RICH],
      [RICH, RICH, "--no-such-option"],
      ["--old", RICH, "--old", "fixtures/seed/my-service.ts", "--new", RICH],
      ["--old", "fixtures/seed/my-service.ts", "--old", "fixtures/python-seed/my_service.py", "--new", RICH],
    ];
    for (const argv of argvs) {
      const c = io();
      expect([argv, await runDiff(argv, c)]).toEqual([argv, DIFF_EXIT.USAGE]);
      expect(c.err).not.toBe("");
    }
  });

  it("--help lists the exit codes and exits 0", async () => {
    const c = io();
    expect(await runDiff(["--help"], c)).toBe(DIFF_EXIT.OK);
    expect(c.out).toMatch(/Exit codes:\n {2}0 {2}no breaking changes\n {2}1 {2}breaking changes/);
  });
});
