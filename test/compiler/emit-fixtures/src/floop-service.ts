// Fixture for test/compiler/emit.test.ts: a service as users write it (see models.ts).
import { Service } from "rpyc-ts";

/** A service with aliases. */
export class FloopService extends Service {
  static override ALIASES = ["floop", "bloop"];
  readonly exposed_version: string = "2.0";
  get exposed_uptime(): number {
    return 1;
  }
  exposed_echo(text: string): string {
    return text;
  }
  async exposed_slow(ms: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return `slept ${ms}`;
  }
  exposed_nothing(): void {}
}
