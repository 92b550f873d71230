// The page of test/browser/direct.test.ts: a web application calling NotesService (fixture
// "websocket") straight from the browser, through the generated stub's connectNotesWebSocket,
// on the URL in ?ws=, with the stub's defaults. It reports what it saw: typed results (checked
// here by tsc, and at run time where a type has a runtime trace, as a Date has), what the server
// passed to the page's callback, the remote exception with its traceback, and the refusal of a
// member without exposed_.

import { AttributeError, isRemoteException, ZeroDivisionError } from "rpyc-ts";
import { connectNotesWebSocket, type Note } from "../../../fixtures/websocket/expected/index.js";
import { param, report } from "./page-globals.js";

/** An error as the page saw it. */
export interface SeenError {
  readonly name: string;
  readonly message: string;
  /** `instanceof` the class the page expected (ZeroDivisionError, AttributeError). */
  readonly expectedClass: boolean;
  /** isRemoteException: it came from the server. */
  readonly remote: boolean;
  /** The server's traceback text. */
  readonly traceback: string | undefined;
}

export interface NotesPageResults {
  /** The codec the connection agreed on (the browser build has only brine). */
  readonly codec: string;
  readonly serviceName: string;
  readonly sum: number;
  /** The stored note, with `due` as an ISO string and whether it arrived as a Date. */
  readonly note: Omit<Note, "due"> & { readonly due: string; readonly dueIsDate: boolean };
  readonly found: readonly string[];
  /** What the server passed to the page's callback, call by call. */
  readonly visits: readonly (readonly [string, number])[];
  /** What `each` returned: the callback's answers. */
  readonly answers: readonly string[];
  readonly divideByZero: SeenError;
  /** The connection goes on after an error: 1 / 4. */
  readonly quarter: number;
  readonly refused: SeenError;
  /** Set instead of the rest when something unexpected failed. */
  readonly failure?: string;
}

async function caught(call: () => Promise<unknown>, expected: abstract new (...args: never[]) => Error): Promise<SeenError> {
  try {
    await call();
  } catch (err) {
    const error = err as Error & { remoteTraceback?: string };
    return {
      name: error.name,
      message: error.message,
      expectedClass: error instanceof expected,
      remote: isRemoteException(err),
      traceback: error.remoteTraceback,
    };
  }
  throw new Error("expected the call to fail");
}

async function run(): Promise<NotesPageResults> {
  const conn = await connectNotesWebSocket(param("ws"));
  try {
    const { root } = conn;
    const negotiated = await conn.negotiated;
    const serviceName = await root.get_service_name();
    const sum: number = await root.add(2, 3);
    const stored: Note = await root.put("buy milk", ["home", "shop"], new Date(Date.UTC(2030, 0, 2, 3, 4, 5)));
    await root.put("call back", ["work"], new Date(Date.UTC(2030, 5, 6)));
    const found: Note[] = await root.find("home");
    const visits: [string, number][] = [];
    const answers: string[] = await root.each(async (title, index) => {
      visits.push([title, index]);
      return title.toUpperCase();
    });
    const divideByZero = await caught(() => root.divide(1, 0), ZeroDivisionError);
    const quarter: number = await root.divide(1, 4);
    // The stub has no `purge` (NotesService does not expose it): reach for it as an untyped client would.
    const untyped = root as unknown as { purge(): Promise<number> };
    const refused = await caught(() => untyped.purge(), AttributeError);
    return {
      codec: negotiated.codec,
      serviceName,
      sum,
      note: { ...stored, due: stored.due.toISOString(), dueIsDate: stored.due instanceof Date },
      found: found.map((note) => note.title),
      visits,
      answers,
      divideByZero,
      quarter,
      refused,
    };
  } finally {
    await conn.close();
  }
}

report<NotesPageResults | { readonly failure: string }>(
  await run().catch((err: unknown) => ({ failure: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ""}` : String(err) })),
);
