// The page of test/browser/gateway.test.ts that uses the gateway as intended: the stub
// rpyc-gen compiled from examples/python/library_service.py, through connectLibraryWebSocket
// on the gateway's URL (?ws=). It reports typed results, the Python server calling the
// page's function back, a Python exception with its traceback, and a refused member.

import { isRemoteException, toArray } from "rpyc-ts";
import { connectLibraryWebSocket } from "../../../examples/python/generated/library-service.client.js";
import { param, report } from "./page-globals.js";

export interface GatewayLibraryResults {
  readonly count?: number | bigint;
  readonly titles?: readonly string[];
  readonly found?: { readonly title: string; readonly year: number | bigint };
  readonly lent?: boolean;
  readonly calledBack?: readonly [string, number | bigint];
  readonly indexError?: { readonly name: string; readonly remote: boolean; readonly traceback: string };
  readonly refused?: string;
  readonly failure?: string;
}

async function run(): Promise<GatewayLibraryResults> {
  const conn = await connectLibraryWebSocket(param("ws"));
  const root = conn.root;
  const count = await root.count();
  const titleList = await root.titles();
  const titles = await toArray(titleList);
  const book = await (await root.search("structure")).__getitem__(0);
  const found = { title: await book.title, year: await book.year };
  let calledBack: [string, number | bigint] | undefined;
  const lent = await root.lend("978-0262510875", "page", async (title, days) => {
    calledBack = [title, days];
  });
  await root.give_back("978-0262510875");
  const err: unknown = await titleList.__getitem__(7).catch((e: unknown) => e);
  const indexError = {
    name: (err as Error).name,
    remote: isRemoteException(err, "IndexError"),
    traceback: (err as { remoteTraceback?: string }).remoteTraceback ?? "",
  };
  const hidden = root as unknown as Record<string, () => Promise<unknown>>;
  const refused = await hidden["_audit"]!().then(
    () => "not refused",
    (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`,
  );
  await conn.close();
  return { count, titles, found, lent, ...(calledBack ? { calledBack } : {}), indexError, refused };
}

run().then(report, (err: unknown) => report<GatewayLibraryResults>({ failure: String((err as Error).stack ?? err) }));
