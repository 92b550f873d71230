// A typed TypeScript client of a Python RPyC service: LibraryService is Python
// (library_service.py), its stub in generated/ was written by `rpyc-gen library_service.py`,
// and every call below is checked by tsc against the Python hints.
//
//   npx tsx examples/python/call-library.ts 18871   calls a library_service.py already running there
//   npx tsx examples/python/call-library.ts         starts one itself (127.0.0.1, a free port), then stops it

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isRemoteException } from "../../runtime/index.js";
import { connectLibrary } from "./generated/library-service.client.js";

/** Starts library_service.py on a free port and resolves with that port and a stop function. */
async function startPythonServer(): Promise<{ port: number; stop: () => void }> {
  const script = fileURLToPath(new URL("./library_service.py", import.meta.url));
  const python = spawn("/usr/bin/python3", [script, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: python.stdout });
  const timer = setTimeout(() => python.kill(), 10_000);
  try {
    for await (const line of lines) {
      const match = /^PORT (\d+)$/.exec(line);
      if (match) return { port: Number(match[1]), stop: () => python.kill() };
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error("library_service.py exited without listening (is python3-rpyc installed? apt-get install -y python3-rpyc)");
}

const given = process.argv[2];
const server = given ? { port: Number(given), stop: () => {} } : await startPythonServer();
// The server this script started stops on every path, a failed connect included.
process.once("exit", () => server.stop());
const conn = await connectLibrary("127.0.0.1", server.port);
try {
  const { root } = conn;
  console.log("service name            ->", await root.get_service_name(), "(a Python RPyC 5.3 server)");
  console.log("root.count()            ->", await root.count());
  const [oldest, newest] = await root.year_span(); // a tuple: by value, typed [number | bigint, number | bigint]
  console.log("root.year_span()        ->", oldest, "to", newest);
  const titles = await root.titles(); // a Python list: a netref, iterated remotely
  const all: string[] = []; // RemoteList<string>: its items are typed from list[str]
  for await (const title of titles) all.push(title);
  console.log("root.titles()           ->", all);
  const book = await root.find("978-0201633610"); // a dataclass instance (a netref) or null
  if (book) console.log("root.find(...).title    ->", await book.title, `(${await book.year})`);
  console.log("root.find('nope')       ->", await root.find("nope"));
  const lent = await root.lend("978-0201633610", "ada", async (title, days) => {
    console.log(`  Python called back    -> on_due(${JSON.stringify(title)}, ${days})`);
  });
  console.log("root.lend(..., on_due)  ->", lent);
  const fingerprint = await root.fingerprint(new Uint8Array([1, 2, 3])); // beyond 2^53: a bigint
  console.log("root.fingerprint(bytes) ->", fingerprint, `(${typeof fingerprint})`);
  try {
    // @ts-expect-error _audit is not exposed, so the generated stub does not have it
    await root._audit();
  } catch (err) {
    if (!isRemoteException(err, "AttributeError")) throw err;
    console.log("root._audit()           -> AttributeError:", err.message);
  }
} finally {
  await conn.close();
  server.stop();
}
