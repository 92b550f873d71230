// `rpyc-ts/gateway`: pages in a browser reach an RPyC server (Python or rpyc-ts) over
// WebSocket, only through what the service's model declares. Node only.

export { Gateway, type GatewayOptions, type GatewaySessionInfo } from "./gateway.js";
export { readGatewayModel, ModelError, type GatewayModel, type GatewayService } from "./model.js";
