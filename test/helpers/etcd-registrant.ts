// A server's registering side in its own process, for the lease-expiry test: registers and
// keeps the lease alive until killed. Run with `node --import tsx`:
//   etcd-registrant.ts <etcd endpoint> <prefix> <ttl> <host> <port> <alias>...
// Prints "REGISTERED" once etcd holds the registration.

import { EtcdRegistryClient } from "../../runtime/registry/etcd.js";

const [endpoint, prefix, ttl, host, port, ...aliases] = process.argv.slice(2);
if (endpoint === undefined || prefix === undefined || ttl === undefined || host === undefined || port === undefined) {
  console.error("usage: etcd-registrant.ts <endpoint> <prefix> <ttl> <host> <port> <alias>...");
  process.exit(2);
}
const registrar = new EtcdRegistryClient({ hosts: endpoint, prefix, ttl: Number(ttl) });
if (!(await registrar.register(aliases, Number(port), host))) {
  console.error("registration failed");
  process.exit(1);
}
console.log("REGISTERED");
// Stay alive (the lease keepalive runs in the background) until the test kills us.
setInterval(() => undefined, 60_000);
