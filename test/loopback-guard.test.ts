import dgram from "node:dgram";
import net from "node:net";
import { describe, expect, it } from "vitest";

describe("loopback guard (test setup)", () => {
  it("refuses a TCP listen on every interface", () => {
    const server = net.createServer();
    expect(() => server.listen(0)).toThrow(/loopback rule/);
    expect(() => server.listen({ port: 0, host: "0.0.0.0" })).toThrow(/loopback rule/);
    server.close();
  });

  it("refuses a TCP connect to a non-loopback address", () => {
    const socket = new net.Socket();
    expect(() => socket.connect({ port: 9, host: "192.0.2.1" })).toThrow(/loopback rule/);
    socket.destroy();
  });

  it("refuses UDP sends and binds beyond loopback", () => {
    const socket = dgram.createSocket("udp4");
    expect(() => socket.send(Buffer.from("x"), 9, "255.255.255.255")).toThrow(/loopback rule/);
    expect(() => socket.bind(0)).toThrow(/loopback rule/);
    socket.close();
  });

  it("lets loopback traffic through", async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
    const port = (server.address() as net.AddressInfo).port;
    const socket = net.connect({ port, host: "127.0.0.1" });
    await new Promise((resolve) => socket.on("close", resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});
