// The generated connectXxxWebSocket (fixture "websocket"): a Node client reaches a ThreadedServer
// serving RPyC over WebSocket on 127.0.0.1 through the stub alone, on either codec. Results are
// typed by the stub (checked by tsc through expectTypeOf) and decoded by its schema (a Date
// arrives as a Date); a callback runs on the client; an exception arrives with the server's
// traceback; a member without exposed_ is refused with AttributeError.

import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { AttributeError, isRemoteException, ThreadedServer, ZeroDivisionError, type Connection } from "../../runtime/index.js";
import { connectNotesWebSocket, type Note, type NotesRemote } from "../../fixtures/websocket/expected/index.js";
import { NotesServiceDispatch } from "../../fixtures/websocket/expected/notes-service.dispatch.js";
import { NotesService } from "../../fixtures/websocket/notes-service.js";

const PATH = "/rpyc";
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serveNotes(): Promise<string> {
  const server = new ThreadedServer(NotesService, { hostname: "127.0.0.1", port: 0, dispatch: NotesServiceDispatch, websocket: { path: PATH } });
  cleanups.push(() => server.close());
  await server.start();
  return `ws://127.0.0.1:${server.port}${PATH}`;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );
}

describe.each([
  { codec: "auto", expected: "native" },
  { codec: "brine", expected: "brine" },
] as const)("connectNotesWebSocket, codec $codec", ({ codec, expected }) => {
  let conn: Connection<NotesRemote>;
  it("connects by URL, as connectNotes does by host and port", async () => {
    conn = await connectNotesWebSocket(await serveNotes(), { config: { codec } });
    cleanups.push(() => conn.close());
    expectTypeOf(conn).toEqualTypeOf<Connection<NotesRemote>>();
    expect(await conn.negotiated).toMatchObject({ codec: expected });
    expect(await conn.root.get_service_name()).toBe("NOTES");
  });

  it("returns typed results, decoded by the schema", async () => {
    const sum = await conn.root.add(2, 3);
    expectTypeOf(sum).toEqualTypeOf<number>();
    expect(sum).toBe(5);
    const due = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    const note = await conn.root.put("buy milk", ["home", "shop"], due);
    expectTypeOf(note).toEqualTypeOf<Note>();
    expect(note).toEqual({ id: 1, title: "buy milk", tags: ["home", "shop"], due });
    expect(note.due).toBeInstanceOf(Date);
    await conn.root.put("call back", ["work"], due);
    const found = await conn.root.find("home");
    expectTypeOf(found).toEqualTypeOf<Note[]>();
    expect(found.map((n) => n.title)).toEqual(["buy milk"]);
  });

  it("the server calls back a function the client passed", async () => {
    const seen: [string, number][] = [];
    const answers = await conn.root.each(async (title, index) => {
      expectTypeOf(title).toEqualTypeOf<string>();
      seen.push([title, index]);
      return title.toUpperCase();
    });
    expectTypeOf(answers).toEqualTypeOf<string[]>();
    expect(seen).toEqual([
      ["buy milk", 0],
      ["call back", 1],
    ]);
    expect(answers).toEqual(["BUY MILK", "CALL BACK"]);
  });

  it("an exception arrives with the server's traceback", async () => {
    const err = await rejectionOf(conn.root.divide(1, 0));
    expect(err).toBeInstanceOf(ZeroDivisionError);
    expect(isRemoteException(err, "ZeroDivisionError")).toBe(true);
    expect((err as ZeroDivisionError).message).toBe("division by zero");
    expect((err as ZeroDivisionError).remoteTraceback).toContain("ZeroDivisionError: division by zero");
    expect(await conn.root.divide(1, 4)).toBe(0.25); // the connection goes on
  });

  it("a member without exposed_ is refused with AttributeError", async () => {
    // The stub has no `purge`: reach it as an untyped client would.
    const untyped = conn.root as unknown as { purge(): Promise<number> };
    const err = await rejectionOf(untyped.purge());
    expect(err).toBeInstanceOf(AttributeError);
    expect(isRemoteException(err, "AttributeError")).toBe(true);
    expect(String(err)).toContain("purge");
    expect(await conn.root.find("work")).toHaveLength(1); // nothing was purged
  });
});
