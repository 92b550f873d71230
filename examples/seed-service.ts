// The seed service of RPyC's tutorial, in TypeScript.
import { Service, type Connection } from "../runtime/index.js";

/** RPyC's tutorial service: one exposed method, one exposed attribute, one private method. */
export class MyService extends Service {
  override on_connect(_conn: Connection): void {
    // code that runs when a connection is created (init stuff)
  }

  override on_disconnect(_conn: Connection): void {
    // code that runs after the connection has already closed (finalization)
  }

  /** The answer to life, the universe and everything (an exposed method). */
  exposed_get_answer(): number {
    return 42;
  }

  /** The real answer, though (an exposed attribute). */
  exposed_the_real_answer_though = 43;

  /** Not exposed: a client cannot call it. */
  get_question(): string {
    return "what is the airspeed velocity of an unladen swallow?";
  }
}
