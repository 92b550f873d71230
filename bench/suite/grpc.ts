// The gRPC row of the benchmark suite: a hand-written unary service over @grpc/grpc-js,
// messages as raw bytes (identity serialisers: no protobuf work at all, the least gRPC can
// cost), so the row measures grpc-js's HTTP/2 transport and call machinery.

import * as grpc from "@grpc/grpc-js";
import type { PeerConnection } from "./events.js";

const identity = (buf: Buffer): Buffer => buf;

function unary(name: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/bench.Bench/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

const BENCH_GRPC_SERVICE = { Ping: unary("Ping"), Echo: unary("Echo") } satisfies grpc.ServiceDefinition;

const PING = Buffer.alloc(4);
const PONG = Buffer.from([1]);

/** Starts the server on 127.0.0.1 and a free port. */
export async function startGrpcServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(BENCH_GRPC_SERVICE, {
    Ping: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, PONG),
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

/** One client channel of its own (a local subchannel pool: one TCP connection per client). gRPC unary has no callbacks. */
export class GrpcClient implements PeerConnection {
  private readonly client: grpc.Client;
  readonly codec = null;

  constructor(port: number) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
  }

  private call(method: grpc.MethodDefinition<Buffer, Buffer>, request: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(method.path, identity, identity, request, (err, value) =>
        err || value === undefined ? reject(err ?? new Error("no reply")) : resolve(value),
      );
    });
  }

  async ping(): Promise<number> {
    return (await this.call(BENCH_GRPC_SERVICE.Ping, PING))[0] ?? 0;
  }

  echo(data: Uint8Array): Promise<Uint8Array> {
    return this.call(BENCH_GRPC_SERVICE.Echo, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  wire(): null {
    return null;
  }

  close(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }
}
