// Fixture for test/compiler/emit.test.ts: a service as users write it (see models.ts).
import { Service } from "rpyc-ts";
import { Color } from "./geo-types.js";

export class BaseService extends Service {
  exposed_base_value = 1;
  exposed_ping(): string {
    return "pong";
  }
  exposed_favourite(): Color {
    return Color.Green;
  }
}
