// The README's demos run as a new user runs them (tsx, a child process) and print what the
// README says: the seed demo (rpyc-ts on both ends) and the typed client of a Python RPyC
// service (examples/python: the stub rpyc-gen wrote from library_service.py, calling a real
// Python RPyC 5.3 server the example starts on 127.0.0.1).

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { requirePythonRpyc } from "./helpers/python.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const TSX = fileURLToPath(new URL("../node_modules/.bin/tsx", import.meta.url));

async function runExample(script: string): Promise<string> {
  const { stdout } = await promisify(execFile)(TSX, [script], { cwd: REPO, timeout: 30_000, encoding: "utf8" });
  return stdout;
}

describe("examples", () => {
  it("seed-demo serves MyService with its dispatch table and calls it through connectMy()", async () => {
    const out = await runExample("examples/seed-demo.ts");
    expect(out).toMatch(/root\.get_answer\(\)\s+-> 42/);
    expect(out).toMatch(/root\.the_real_answer_though -> 43/);
    expect(out).toMatch(/root\.get_service_name\(\)\s+-> MY/);
    expect(out).toMatch(/root\.get_question\(\)\s+-> AttributeError: cannot access 'get_question'/);
  }, 40_000);

  it("python/call-library calls a Python RPyC server through the stub generated from its source", async () => {
    requirePythonRpyc();
    const out = await runExample("examples/python/call-library.ts");
    expect(out).toMatch(/service name\s+-> LIBRARY \(a Python RPyC 5\.3 server\)/);
    expect(out).toMatch(/root\.count\(\)\s+-> 2$/m);
    expect(out).toMatch(/root\.year_span\(\)\s+-> 1985 to 1994/);
    expect(out).toMatch(/'Design Patterns',\s+'Structure and Interpretation of Computer Programs'/);
    expect(out).toMatch(/root\.find\(\.\.\.\)\.title\s+-> Design Patterns \(1994\)/);
    expect(out).toMatch(/root\.find\('nope'\)\s+-> null/);
    expect(out).toMatch(/Python called back\s+-> on_due\("Design Patterns", 14\)/);
    expect(out).toMatch(/root\.fingerprint\(bytes\) -> 1218425892812589593788416n \(bigint\)/);
    expect(out).toMatch(/root\._audit\(\)\s+-> AttributeError: cannot access '_audit'/);
  }, 40_000);
});
