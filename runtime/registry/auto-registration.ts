// A server's background registration (RPyC's Server._bg_register): register the service's
// aliases and port, renew them, unregister on stop. Used by runtime/server/server.ts.

import type { Logger } from "../connection/config.js";
import type { Registrar } from "./registrar.js";

/**
 * A server's registration loop: register now, again every `interval` seconds after a
 * success, after min(1, interval) seconds after a failure; failures are logged, never
 * thrown. stop() waits for an attempt in flight (so no REGISTER can land after it), then
 * unregisters. The timer is unref'd: it never keeps the process alive.
 */
export class AutoRegistration {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private confirm!: (ok: boolean) => void;
  /** Resolves true at the first confirmed registration, false if stopped before one. */
  readonly registered: Promise<boolean> = new Promise((resolve) => (this.confirm = resolve));

  constructor(
    private readonly registrar: Registrar,
    /** True when the server created the registrar, so stop() also closes it. */
    private readonly owned: boolean,
    private readonly target: { readonly aliases: string[]; readonly port: number; readonly host: string },
    private readonly interval: number,
    private readonly logger: Logger | undefined,
  ) {
    this.logger?.info(`started background auto-register loop (interval = ${interval})`);
    this.attempt();
  }

  private attempt(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const { aliases, port, host } = this.target;
    this.inFlight = (async () => {
      let ok = false;
      try {
        ok = await this.registrar.register(aliases, port, host);
      } catch (err) {
        this.logger?.error(`error registering services: ${(err as Error).message}`);
      }
      if (ok) this.confirm(true);
      else this.logger?.info("registering services did not work - retry");
      if (this.stopped) return;
      this.timer = setTimeout(() => this.attempt(), (ok ? this.interval : Math.min(1, this.interval)) * 1000);
      this.timer.unref();
    })();
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      clearTimeout(this.timer);
      this.confirm(false);
      await this.inFlight;
      const { port, host } = this.target;
      try {
        await this.registrar.unregister(port, host);
      } catch (err) {
        this.logger?.error(`error unregistering services: ${(err as Error).message}`);
      }
      if (this.owned) await this.registrar.close?.();
    })();
    return this.stopped;
  }
}
