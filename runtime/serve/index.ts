// Serving: what a peer's request may reach and how it is answered. service.ts defines
// Service (exposed_ members, names and aliases, lifecycle hooks); access.ts RPyC's attribute
// rules plus JavaScript's machinery that stays unreachable whatever the config; handlers.ts
// the serving side of each of RPyC's handler codes; pyproto.ts Python's dunders on Maps,
// Sets, arrays and iterators; function-params.ts keyword arguments onto JS parameters.

export { Service, VoidService, classpartial, serviceAliases, type ServiceFactory, type ServiceSpec } from "./service.js";
