// Fixture for test/compiler/emit.test.ts: a service as users write it (see models.ts).
import { Service } from "rpyc-ts";

class ChildService extends Service {
  exposed_name = "child";
  secret = 1;
}

export { ChildService as Child };
