// The README's main job: serve the seed's MyService through the dispatch table rpyc-gen
// compiled for it, call it through the generated typed stub, print the results.
// `npm run demo` runs `rpyc-gen examples/seed-service.ts -o examples/generated` first.

import { isRemoteException, ThreadedServer } from "../runtime/index.js";
import { connectMy } from "./generated/my-service.client.js";
import { MyServiceDispatch } from "./generated/my-service.dispatch.js";
import { MyService } from "./seed-service.js";

const server = new ThreadedServer(MyService, { hostname: "127.0.0.1", port: 0, dispatch: MyServiceDispatch });
await server.start();
console.log(`serving ${server.aliases.join(", ")} on ${server.address} (compiled dispatch table: only compiled members answer)`);

const conn = await connectMy("127.0.0.1", server.port);
try {
  // Both ends are rpyc-ts: typed calls go as protobuf (a Python peer would keep brine).
  console.log("codec agreed                ->", (await conn.negotiated).codec);
  console.log("root.get_answer()           ->", await conn.root.get_answer());
  console.log("root.the_real_answer_though ->", await conn.root.the_real_answer_though);
  console.log("root.get_service_name()     ->", await conn.root.get_service_name());
  try {
    // @ts-expect-error get_question is not exposed, so the generated stub does not have it
    await conn.root.get_question();
  } catch (err) {
    if (!isRemoteException(err, "AttributeError")) throw err;
    console.log("root.get_question()         -> AttributeError:", err.message);
  }
} finally {
  await conn.close();
  await server.close();
}
