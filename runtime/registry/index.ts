// Finding services by name. RPyC's registry protocol (messages.ts) with its UDP and TCP
// servers (registry-core.ts keeps the table) and clients; registrar.ts the interface every
// registry client implements; auto-registration.ts how servers keep themselves registered;
// etcd.ts a registrar on etcd (the subpath "rpyc-ts/etcd", not re-exported here: only its
// users need etcd3); discovery.ts discover, listServices and connectByService;
// cli.ts the rpyc-registry command.

export { discover, listServices, connectByService, type DiscoverOptions, type ListServicesOptions, type ConnectByServiceOptions } from "./discovery.js";
export { REGISTRY_PORT, MAX_DGRAM_SIZE, DEFAULT_PRUNING_TIMEOUT, REREGISTER_INTERVAL, type Registrar, type ServiceAddress } from "./registrar.js";
export { RegistryCore, DEFAULT_MAX_ENTRIES, type RegistryServerOptions } from "./registry-core.js";
export { UDPRegistryServer, type UDPRegistryServerOptions } from "./udp-server.js";
export { TCPRegistryServer, DEFAULT_TCP_IDLE_TIMEOUT, DEFAULT_TCP_MAX_CONNECTIONS, type TCPRegistryServerOptions } from "./tcp-server.js";
export { UDPRegistryClient, DEFAULT_UDP_REGISTRY_IP, DEFAULT_REGISTRY_TIMEOUT, type UDPRegistryClientOptions } from "./udp-client.js";
export { TCPRegistryClient, MAX_TCP_REPLY_SIZE, type TCPRegistryClientOptions } from "./tcp-client.js";
export { REGISTRY_MAGIC, type RegistryCommand } from "./messages.js";
