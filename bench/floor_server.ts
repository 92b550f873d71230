// The raw TCP floor's server (see floor.ts): binds 127.0.0.1 on a free port, prints
// "PORT <n>", serves until SIGTERM (or, with --watch-stdin, until its stdin reaches EOF: the bench died).
//
//   node --import tsx bench/floor_server.ts

import { createServer } from "node:net";
import { serveFloor } from "./floor.js";
import { exitWithParent } from "./child.js";

const server = createServer(serveFloor);
await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
});
const address = server.address();
process.stdout.write(`PORT ${typeof address === "object" && address !== null ? address.port : 0}\n`);
exitWithParent(() => {
  server.close();
  return Promise.resolve();
});
