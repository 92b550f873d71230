// The seed service of RPyC's tutorial, in TypeScript.
import { Service, type Connection } from "../runtime/index.js";

export class MyService extends Service {
  override on_connect(_conn: Connection): void {
    // code that runs when a connection is created (init stuff)
  }

  override on_disconnect(_conn: Connection): void {
    // code that runs after the connection has already closed (finalization)
  }

  exposed_get_answer(): number {
    // this is an exposed method
    return 42;
  }

  exposed_the_real_answer_though = 43; // an exposed attribute

  get_question(): string {
    // while this method is not exposed
    return "what is the airspeed velocity of an unladen swallow?";
  }
}
