// A CommonJS program (package.json "type": "commonjs", as `npm init -y` writes) can
// require("rpyc-ts") and require("rpyc-ts/internal") on Node >= 20.19, through the package's
// exports map and its built dist/ (npm ci builds it: "prepare"), and call a server with it.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), "rpyc-ts-cjs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PROGRAM = `
const { ThreadedServer, Service, connect, isRpycError } = require("rpyc-ts");
const { defineDispatch } = require("rpyc-ts/internal");
class EchoService extends Service {
  exposed_echo(value) { return value; }
}
(async () => {
  const server = new ThreadedServer(EchoService, { hostname: "127.0.0.1", port: 0 });
  await server.start();
  const conn = await connect("127.0.0.1", server.port);
  try {
    const echoed = await conn.root.echo("from CommonJS");
    const refused = await conn.root.nope().then(() => "no error", (err) => err.name);
    console.log(JSON.stringify({ echoed, refused, guard: typeof isRpycError, internal: typeof defineDispatch }));
  } finally {
    await conn.close();
    await server.close();
  }
})();
`;

it("require('rpyc-ts') works in a CommonJS project and calls a server", async () => {
  expect(existsSync(path.join(REPO, "dist/runtime/index.js")), "dist/ is missing: run npm run build (npm ci does)").toBe(true);
  writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ name: "cjs-consumer", version: "1.0.0", type: "commonjs" }));
  mkdirSync(path.join(scratch, "node_modules"), { recursive: true });
  symlinkSync(REPO, path.join(scratch, "node_modules", "rpyc-ts"), "dir");
  writeFileSync(path.join(scratch, "main.js"), PROGRAM);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ["main.js"], { cwd: scratch, timeout: 60_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
    );
  });
  expect(JSON.parse(stdout)).toEqual({ echoed: "from CommonJS", refused: "AttributeError", guard: "function", internal: "function" });
});
