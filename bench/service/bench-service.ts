// The service of the benchmark suite (bench/suite.ts), compiled by rpyc-gen into
// bench/generated/ so that arguments and results cross by their declared types:
//   npm run -s gen -- bench/service/bench-service.ts -o bench/generated
// bench/suite/python_server.py serves the same four methods from Python RPyC.
import { Service } from "../../runtime/index.js";

/** Four calls of the suite's rows: a small call, an echo, a two-argument call, a callback. */
export class BenchService extends Service {
  /** The smallest call: no argument, a small int back. */
  exposed_ping(): number {
    return 1;
  }

  /** Returns its argument: the 1 KB and 1 MB echo rows. */
  exposed_echo(data: Uint8Array): Uint8Array {
    return data;
  }

  /** Two numbers in, one out. */
  exposed_add(a: number, b: number): number {
    return a + b;
  }

  /** Calls the client's function back once (`fn(1)`) and returns what it returned. */
  async exposed_call_back(fn: (x: number) => Promise<number>): Promise<number> {
    return await fn(1);
  }
}
