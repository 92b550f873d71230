// Fixture for test/compiler/emit.test.ts: a service as users write it (see models.ts).
import { Service, type Connection } from "rpyc-ts";

export class MyService extends Service {
  override on_connect(_conn: Connection): void {}
  override on_disconnect(_conn: Connection): void {}
  exposed_get_answer(): number {
    return 42;
  }
  exposed_the_real_answer_though = 43;
  get_question(): string {
    return "what is the airspeed velocity of an unladen swallow?";
  }
}
