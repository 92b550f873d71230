// Loopback rule: every socket a test opens binds or sends to 127.0.0.1 / ::1 only.
// Installed for every test file; a test that targets any other address fails at once.

import dgram from "node:dgram";
import net from "node:net";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"]);

export class LoopbackViolation extends Error {
  override name = "LoopbackViolation";
}

function check(what: string, host: unknown): void {
  if (typeof host !== "string" || !LOOPBACK.has(host)) {
    throw new LoopbackViolation(`loopback rule: a test tried to ${what} ${String(host)}; use 127.0.0.1 or ::1`);
  }
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  const options = Array.isArray(first) ? first[0] : first; // internal normalized form
  if (typeof options === "object" && options !== null) {
    const o = options as { path?: string; host?: string };
    if (o.path === undefined) check("connect to", o.host ?? "localhost");
  } else if (typeof options === "number" || (typeof options === "string" && /^\d+$/.test(options))) {
    check("connect to", typeof args[1] === "string" ? args[1] : "localhost");
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const first = args[0];
  if (typeof first === "object" && first !== null && !("_handle" in first)) {
    const o = first as { path?: string; host?: string };
    if (o.path === undefined) check("listen on", o.host);
  } else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    check("listen on", typeof args[1] === "string" ? args[1] : undefined);
  }
  return (originalListen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;

const originalSend = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
  // send(msg, offset, length, port, address?, cb?) or send(msg, port, address?, cb?);
  // send(msg, cb?) on a connected socket was checked by connect().
  const addressIndex = typeof args[1] === "number" && typeof args[2] === "number" ? 4 : typeof args[1] === "number" ? 2 : -1;
  if (addressIndex > 0) {
    const address = args[addressIndex];
    check("send a datagram to", typeof address === "string" ? address : "localhost");
  }
  return (originalSend as (...a: unknown[]) => void).apply(this, args);
} as typeof dgram.Socket.prototype.send;

const originalUdpConnect = dgram.Socket.prototype.connect;
dgram.Socket.prototype.connect = function (this: dgram.Socket, ...args: unknown[]) {
  check("connect a datagram socket to", typeof args[1] === "string" ? args[1] : "localhost");
  return (originalUdpConnect as (...a: unknown[]) => void).apply(this, args);
} as typeof dgram.Socket.prototype.connect;

const originalBind = dgram.Socket.prototype.bind;
dgram.Socket.prototype.bind = function (this: dgram.Socket, ...args: unknown[]) {
  const first = args[0];
  const address = typeof first === "object" && first !== null ? (first as { address?: string }).address : args[1];
  check("bind a datagram socket to", typeof address === "string" ? address : undefined);
  return (originalBind as (...a: unknown[]) => dgram.Socket).apply(this, args);
} as typeof dgram.Socket.prototype.bind;
