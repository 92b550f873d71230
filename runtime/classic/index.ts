// RPyC's classic mode: ClassicService grants whoever connects eval, execute and import()
// in this process (remote code execution by design, never a default); connectClassic is
// the client side, against rpyc-ts and Python classic servers alike; cli.ts is rpyc-classic.

export {
  ClassicService,
  connectClassic,
  installClassic,
  importModule,
  DEFAULT_CLASSIC_PORT,
  type ClassicConnection,
  type ClassicConnectOptions,
  type ModuleNamespace,
  type RemotePath,
  type RemoteObject,
  type ClassicRoot,
} from "./classic.js";
