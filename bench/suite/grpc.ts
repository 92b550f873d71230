// The gRPC row of the benchmark suite: a hand-written unary service over @grpc/grpc-js,
// messages as raw bytes (identity serialisers: no protobuf work at all, the least gRPC can
// cost), so the row measures grpc-js's HTTP/2 transport and call machinery.

import * as grpc from "@grpc/grpc-js";
import type { PeerConnection } from "./events.js";

const identity = (buf: Buffer): Buffer => buf;

const unary = (name: string): grpc.MethodDefinition<Buffer, Buffer> => {
  const serialisers = { requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
  return { path: `/bench.Bench/${name}`, requestStream: false, responseStream: false, ...serialisers };
};
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

/** A client of its own channel (a local subchannel pool: one TCP connection per client). gRPC unary has no callbacks. */
export function openGrpc(port: number): Promise<PeerConnection> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
  const call = (method: grpc.MethodDefinition<Buffer, Buffer>, request: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(method.path, identity, identity, request, (err, value) =>
        err || !value ? reject(err ?? new Error("no reply")) : resolve(value),
      );
    });
  return Promise.resolve({
    ping: async () => (await call(BENCH_GRPC_SERVICE.Ping, PING))[0] ?? 0,
    echo: (data) => call(BENCH_GRPC_SERVICE.Echo, Buffer.from(data.buffer, data.byteOffset, data.byteLength)),
    codec: null,
    wire: () => null,
    close: async () => client.close(),
  });
}
