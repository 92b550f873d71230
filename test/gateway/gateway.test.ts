// The gateway (runtime/gateway): a client connects over WebSocket with the stub rpyc-gen
// compiled from examples/python/library_service.py, and reaches the real Python service
// through it. The Python server runs with --record, which prints every request it dispatches,
// so each test can show what the server saw (and that nothing else reached it).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuthenticationError, connectWebSocket, isNetref, isRemoteException, toArray, type Connection, type ThreadedServer } from "../../runtime/index.js";
import { Gateway } from "../../runtime/gateway/index.js";
import { connectLibraryWebSocket, type LibraryRemote } from "../../examples/python/generated/library-service.client.js";
import { ChildServiceDispatch } from "../../fixtures/matrix/expected/child-service.dispatch.js";
import { connectMatrixWebSocket, type MatrixRemote } from "../../fixtures/matrix/expected/index.js";
import { MatrixServiceDispatch } from "../../fixtures/matrix/expected/matrix-service.dispatch.js";
import { MatrixService } from "../../fixtures/matrix/matrix-service.js";
import { startPython, WITH_PYTHON, type PythonProcess } from "../helpers/python.js";
import { serve } from "../helpers/servers.js";

const LIBRARY = fileURLToPath(new URL("../../examples/python/library_service.py", import.meta.url));
const MODEL: unknown = JSON.parse(readFileSync(new URL("../../examples/python/generated/model.json", import.meta.url), "utf8"));
const MATRIX_MODEL: unknown = JSON.parse(readFileSync(new URL("../../fixtures/matrix/expected/model.json", import.meta.url), "utf8"));

/** The requests the Python server has dispatched so far, as "handler name" strings. */
function seen(python: PythonProcess): string[] {
  return [...python.output().matchAll(/^SEEN (.*)$/gm)].map((m) => {
    const request = JSON.parse(m[1]!) as { handler: string | number; name?: string };
    // 0x7254: the native-codec offer an rpyc-ts client opens with (Python answers it KeyError: brine).
    const handler = request.handler === 0x7254 ? "native-offer" : String(request.handler);
    return request.name === undefined ? handler : `${handler} ${request.name}`;
  });
}

describe.runIf(WITH_PYTHON)("Gateway in front of Python RPyC (the library service)", () => {
  let python: PythonProcess;
  let gateway: Gateway;
  const opened: Connection<unknown>[] = [];
  let mark = 0;

  beforeAll(async () => {
    python = await startPython("serve_service_file.py", [LIBRARY, "LibraryService", "--public-attrs", "--record"]);
    gateway = await new Gateway({ hostname: "127.0.0.1", upstream: { host: "127.0.0.1", port: python.port }, model: MODEL }).start();
  });
  afterAll(async () => {
    await Promise.all(opened.map((conn) => conn.close()));
    await gateway?.close();
    await python?.stop();
  });
  beforeEach(() => {
    mark = seen(python).length;
  });
  const seenSinceMark = (): string[] => seen(python).slice(mark);

  async function page(): Promise<LibraryRemote> {
    const conn = await connectLibraryWebSocket(gateway.url);
    opened.push(conn as Connection<unknown>);
    return conn.root;
  }

  it("the generated stub calls the Python service through it: values, a list, a dataclass, a callback", async () => {
    const root = await page();
    expect(await root.count()).toBe(2);
    expect(await root.year_span()).toEqual([1985, 1994]);
    expect(await root.opening_hours).toEqual([9, 18]);
    const titles = await root.titles();
    expect(isNetref(titles)).toBe(true);
    expect(await titles.__len__()).toBe(2);
    expect(await toArray(titles)).toEqual(["Design Patterns", "Structure and Interpretation of Computer Programs"]);
    const items: string[] = [];
    for await (const title of titles) items.push(title);
    expect(items).toEqual(["Design Patterns", "Structure and Interpretation of Computer Programs"]);
    const found = await root.search("design");
    const book = await found.__getitem__(0);
    expect(await book.title).toBe("Design Patterns");
    expect(await book.year).toBe(1994);
    expect(await root.find("nope")).toBeNull();
    const due: [string, number | bigint][] = [];
    expect(await root.lend("978-0201633610", "ada", async (title, days) => void due.push([title, days]))).toBe(true);
    expect(due).toEqual([["Design Patterns", 14]]);
    expect(await root.give_back("978-0201633610")).toBe(true);
    expect(await root.fingerprint(Uint8Array.of(1, 2))).toBe(258n << 64n);
    expect(await root.get_service_name()).toBe("LIBRARY");
  });

  it("an upstream error reaches the page with Python's traceback and none of the gateway's", async () => {
    const root = await page();
    const titles = await root.titles();
    const err: unknown = await titles.__getitem__(5).catch((e: unknown) => e);
    expect(isRemoteException(err, "IndexError")).toBe(true);
    const traceback = (err as { remoteTraceback: string }).remoteTraceback;
    expect(traceback).toMatch(/Traceback \(most recent call last\)[\s\S]*IndexError: list index out of range/);
    expect(traceback).not.toMatch(/gateway|node_modules|\.ts:\d+/);
  });

  it("a callback from the server reaches every watching page (a live update)", async () => {
    const watcher = await page();
    const events: string[] = [];
    let told!: () => void;
    const news = new Promise<void>((resolve) => (told = resolve));
    await watcher.watch(async (event, title) => {
      events.push(`${event} ${title}`);
      told();
    });
    const lender = await page();
    expect(await lender.lend("978-0262510875", "grace")).toBe(true);
    await news;
    expect(events).toEqual(["lent Structure and Interpretation of Computer Programs"]);
    expect(await lender.give_back("978-0262510875")).toBe(true);
  });

  it("refuses what the model does not declare, and the Python server never sees it", async () => {
    const root = (await page()) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const refused: unknown = await root["_audit"]!().catch((e: unknown) => e);
    expect(String(refused)).toMatch(/cannot access '_audit'/);
    // The gateway's own traceback stays home (only an upstream one is passed on).
    expect((refused as { remoteTraceback?: string }).remoteTraceback).toBe("<traceback denied>");
    await expect(root["__class__"]!()).rejects.toThrow(/cannot access/);
    await expect(root["constructor"]!()).rejects.toThrow(/cannot access|constructor/);
    // Wrong types are refused by the model's types before anything is forwarded.
    await expect(root["find"]!(42)).rejects.toThrow(/find\(\) argument 'isbn': expected string, got number 42/);
    await expect(root["lend"]!("978-0201633610", "ada", "not a function")).rejects.toThrow(/argument 'on_due'/);
    await expect(root["count"]!(1)).rejects.toThrow(/count\(\) takes 0 arguments, got 1/);
    // A dataclass answers its fields only.
    const book = (await (await (root["search"]!("design") as Promise<{ __getitem__(i: number): Promise<unknown> }>)).__getitem__(0)) as Record<
      string,
      PromiseLike<unknown>
    >;
    expect(await book["title"]).toBe("Design Patterns");
    await expect(Promise.resolve(book["__dict__"])).rejects.toThrow(/cannot access/);
    await expect(Promise.resolve(book["__class__"])).rejects.toThrow(/cannot access/);
    expect(seenSinceMark().filter((request) => !/^(getroot|callattr search|callattr __getitem__|getattr title|inspect|del)/.test(request))).toEqual([]);
  });

  it("an untyped client reaches no more than the stub: the whitelist is the gateway's, not the client's", async () => {
    const conn = await connectWebSocket(gateway.url);
    opened.push(conn as Connection<unknown>);
    const root = conn.root as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    expect(await root["count"]!()).toBe(2);
    await expect(root["_audit"]!()).rejects.toThrow(/cannot access '_audit'/);
    await expect(root["find"]!(42)).rejects.toThrow(/expected string/);
  });
});

describe("Gateway in front of an rpyc-ts server with its dispatch tables (the matrix service)", () => {
  let server: ThreadedServer;
  let gateway: Gateway;
  const opened: Connection<unknown>[] = [];
  beforeAll(async () => {
    server = await serve(MatrixService, { dispatch: [MatrixServiceDispatch, ChildServiceDispatch] });
    gateway = await new Gateway({
      hostname: "127.0.0.1",
      upstream: { host: "127.0.0.1", port: server.port },
      model: MATRIX_MODEL,
      service: "MatrixService",
      maxPendingCalls: 8,
    }).start();
  });
  afterAll(async () => {
    await Promise.all(opened.map((conn) => conn.close()));
    await gateway?.close();
    await server?.close();
  });
  async function page(): Promise<MatrixRemote> {
    const conn = await connectMatrixWebSocket(gateway.url);
    opened.push(conn as Connection<unknown>);
    return conn.root;
  }

  it("plain data by value both ways, a child service, a Set, a callback", async () => {
    const root = await page();
    expect(await root.person()).toEqual({ name: "Ada", age: 36, tags: ["math"] });
    expect(await root.greet({ name: "Ada", age: 36, tags: [], nickname: "Countess" })).toBe("hello Ada (Countess)");
    expect(await root.scores()).toEqual(new Map([["ada", 10]]));
    expect(await root.when()).toEqual(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
    expect(await root.few()).toBe(5n);
    expect(await (await root.child()).hello()).toBe("hello from the child");
    expect(await (await root.letters()).__contains__("a")).toBe(true);
    expect(await root.apply(async (x) => x + 1, 41)).toBe(42);
  });

  it("an object the model does not describe is refused, not forwarded", async () => {
    const root = await page();
    await expect(root.counter()).rejects.toThrow(/counter\(\) result: expected Counter.*the model does not describe Counter/);
  });

  it("a page's calls waiting upstream are bounded (maxPendingCalls): the next one is refused, the others complete", async () => {
    const root = await page();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = 0;
    let allIn!: () => void;
    const full = new Promise<void>((resolve) => (allIn = resolve));
    // apply() waits upstream for the page's callback, which waits for the gate.
    const waiting = Array.from({ length: 8 }, (_, i) =>
      root.apply(async (x) => {
        if (++entered === 8) allIn();
        await gate;
        return x;
      }, i),
    );
    await full;
    await expect(root.number()).rejects.toThrow(/maxPendingCalls \(8\)|8 calls waiting/);
    release();
    expect(await Promise.all(waiting)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await root.number()).toBe(1.5);
  });
});

describe.runIf(WITH_PYTHON)("Gateway: telling pages apart", () => {
  let python: PythonProcess;
  const gateways: Gateway[] = [];
  const opened: Connection<unknown>[] = [];
  beforeAll(async () => {
    python = await startPython("serve_service_file.py", [LIBRARY, "LibraryService", "--public-attrs"]);
  });
  afterAll(async () => {
    await Promise.all(opened.map((conn) => conn.close()));
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await python?.stop();
  });
  async function startGateway(options: Partial<ConstructorParameters<typeof Gateway>[0]>): Promise<Gateway> {
    const gateway = await new Gateway({ hostname: "127.0.0.1", upstream: { host: "127.0.0.1", port: python.port }, model: MODEL, ...options }).start();
    gateways.push(gateway);
    return gateway;
  }
  const USERS: Readonly<Record<string, string>> = { "t-ada": "ada", "t-grace": "grace" };

  it("a token sent as the first message (tokenMessage): the right one is served under its identity, others are refused", async () => {
    const gateway = await startGateway({
      tokenMessage: true,
      authenticate: (_request, token) => {
        const user = token === undefined ? undefined : USERS[token];
        if (user === undefined) throw new AuthenticationError("unknown token");
        return { user };
      },
    });
    const ada = await connectLibraryWebSocket(gateway.url, { token: "t-ada" });
    opened.push(ada as Connection<unknown>);
    expect(await ada.root.count()).toBe(2);
    expect(gateway.sessions.map((s) => s.identity)).toEqual([{ user: "ada" }]);
    for (const token of ["t-eve", undefined]) {
      // The handshake completes before the token is read: the refusal closes the connection.
      const refused = await connectLibraryWebSocket(gateway.url, token === undefined ? {} : { token });
      opened.push(refused as Connection<unknown>);
      await expect(refused.root.count(), `token ${token}`).rejects.toThrow(/closed/);
    }
    expect(gateway.sessions.map((s) => s.identity)).toEqual([{ user: "ada" }]);
    expect(() => new Gateway({ upstream: { host: "127.0.0.1", port: python.port }, model: MODEL, tokenMessage: true })).toThrow(
      /tokenMessage needs authenticate/,
    );
  });

  it("a cookie or header at the upgrade: refused with HTTP 401 when the authenticator says no", async () => {
    const gateway = await startGateway({
      authenticate: (request) => {
        const session = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.cookie ?? "")?.[1];
        if (session === undefined || !(session in USERS)) throw new AuthenticationError("no session");
        return { user: USERS[session] };
      },
    });
    const grace = await connectLibraryWebSocket(gateway.url, { headers: { Cookie: "session=t-grace" } });
    opened.push(grace as Connection<unknown>);
    expect(await grace.root.count()).toBe(2);
    expect(gateway.sessions.map((s) => s.identity)).toEqual([{ user: "grace" }]);
    await expect(connectLibraryWebSocket(gateway.url, { headers: { Cookie: "session=nobody" } })).rejects.toThrow(/HTTP 401/);
  });
});
