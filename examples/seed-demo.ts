// The README's main job: serve the seed's MyService, call it like RPyC's tutorial, print results.
import { connect, isRemoteException, ThreadedServer } from "../runtime/index.js";
import { MyService } from "./seed-service.js";

const server = new ThreadedServer(MyService, { hostname: "127.0.0.1", port: 0 });
await server.start();
console.log(`serving ${server.aliases.join(", ")} on ${server.address}`);

const conn = await connect<MyService>("127.0.0.1", server.port);
try {
  console.log("root.get_answer()          ->", await conn.root.get_answer());
  console.log("root.the_real_answer_though ->", await conn.root.the_real_answer_though);
  console.log("root.get_service_name()    ->", await conn.root.get_service_name());
  try {
    // @ts-expect-error get_question is not exposed, so it is not part of the type either
    await conn.root.get_question();
  } catch (err) {
    if (!isRemoteException(err, "AttributeError")) throw err;
    console.log("root.get_question()        -> AttributeError:", err.message);
  }
} finally {
  await conn.close();
  await server.close();
}
