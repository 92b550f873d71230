// The registrar contract (RPyC's RegistryClient): what servers register with and clients
// discover through. The UDP and TCP registry clients speak RPyC's registry protocol; the
// etcd client keeps the same contract over a replicated store. Any registrar works with
// servers' `autoRegister`, `discover`, `listServices` and `connectByService`.

/** A server address as a registry reports it. */
export type ServiceAddress = readonly [host: string, port: number];

export interface Registrar {
  /**
   * Announces that `aliases` are served on `port`. The registry records the address the
   * announcement came from (RPyC's rule), so `interfaceHost` is the local address to send
   * it from (the server's listening interface). Resolves true when the registry confirmed.
   */
  register(aliases: readonly string[], port: number, interfaceHost?: string): Promise<boolean>;
  /** Withdraws every service registered from this host on `port`. */
  unregister(port: number, interfaceHost?: string): Promise<void>;
  /** Servers exposing `name` (case-insensitive), oldest registration first; empty when none. */
  discover(name: string): Promise<ServiceAddress[]>;
  /** Every registered service name, or null when the registry does not allow listing. */
  list(filterHost?: string | null): Promise<string[] | null>;
  /** Releases sockets, leases or watches the registrar holds. */
  close?(): Promise<void>;
}

/** RPyC's registry port. */
export const REGISTRY_PORT = 18811;
/** Largest registry datagram RPyC reads. */
export const MAX_DGRAM_SIZE = 1500;
/** Seconds after which a registration that was not renewed is dropped (RPyC: 4 minutes). */
export const DEFAULT_PRUNING_TIMEOUT = 240;
/** Seconds between a server's re-registrations (RPyC: 60). */
export const REREGISTER_INTERVAL = 60;
