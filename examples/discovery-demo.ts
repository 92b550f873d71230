// Discovery on loopback: a registry, a server that registers MY with it, and a client that
// finds MY by name through the generated stub's connectMyByService. `npm run demo:discovery`.

import { listServices, ThreadedServer } from "../runtime/index.js";
import { UDPRegistryClient, UDPRegistryServer } from "../runtime/registry/index.js";
import { connectMyByService } from "./generated/my-service.client.js";
import { MyServiceDispatch } from "./generated/my-service.dispatch.js";
import { MyService } from "./seed-service.js";

// A registry on 127.0.0.1 (RPyC's default is a UDP broadcast on 18811; demos stay on loopback).
const registry = new UDPRegistryServer({ host: "127.0.0.1", port: 0, allowListing: true });
await registry.start();
const registrar = new UDPRegistryClient({ ip: "127.0.0.1", port: registry.port });
console.log(`registry listening on 127.0.0.1:${registry.port} (UDP)`);

// The server registers its names (MY) when it starts, renews them, and withdraws them on close.
const server = new ThreadedServer(MyService, { hostname: "127.0.0.1", port: 0, dispatch: MyServiceDispatch, registrar });
await server.start();
await server.whenRegistered();
console.log(`server for ${server.aliases.join(", ")} on ${server.address}, registered`);

try {
  console.log("listServices()              ->", await listServices({ registrar }));
  const conn = await connectMyByService({ registrar });
  console.log("connectMyByService()        -> connected to", conn.config.endpoints?.[1] ?? "?");
  console.log("root.get_answer()           ->", await conn.root.get_answer());
  console.log("root.the_real_answer_though ->", await conn.root.the_real_answer_though);
  await conn.close();
} finally {
  await server.close();
  await registrar.close?.();
  await registry.close();
}
