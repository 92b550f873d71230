// The page of the browser example: a small library over the Python service of
// examples/python, reached through the gateway (examples/browser/demo.ts starts all three).
// It uses the stub rpyc-gen compiled from library_service.py, as any TypeScript client does:
// connectLibraryWebSocket(url) instead of connectLibrary(host, port).

import { connectLibraryWebSocket, type LibraryRemote } from "../python/generated/library-service.client.js";

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;

/** The state the suite reads (test/browser/example.test.ts); a person reads the page. */
const state = { ready: false, shown: [] as string[], news: [] as string[], error: "" };
(window as unknown as { demo: typeof state }).demo = state;

function say(message: string): void {
  state.error = message;
  $("#error").textContent = message;
}

async function show(root: LibraryRemote, text: string): Promise<void> {
  const books = await root.search(text);
  const rows: HTMLElement[] = [];
  const shown: string[] = [];
  for await (const book of books) {
    const [isbn, title, year] = await Promise.all([book.isbn, book.title, book.year]);
    shown.push(title);
    const row = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = `${title} (${year})`;
    const lend = document.createElement("button");
    lend.textContent = "Lend";
    lend.dataset.isbn = isbn;
    lend.onclick = () =>
      void root.lend(isbn, "a reader").then(
        (ok) => say(ok ? "" : `${title} is out already`),
        (err: unknown) => say(String(err)),
      );
    const giveBack = document.createElement("button");
    giveBack.textContent = "Return";
    giveBack.onclick = () =>
      void root.give_back(isbn).then(
        (ok) => say(ok ? "" : `${title} is on the shelf`),
        (err: unknown) => say(String(err)),
      );
    row.append(label, lend, giveBack);
    rows.push(row);
  }
  $("#books").replaceChildren(...rows);
  state.shown = shown;
}

async function main(): Promise<void> {
  const url = document.querySelector<HTMLMetaElement>('meta[name="gateway"]')!.content;
  const conn = await connectLibraryWebSocket(url);
  const root = conn.root;
  const [open, close] = await root.opening_hours;
  $("#hours").textContent = `Open ${open}:00 to ${close}:00, ${await root.count()} books`;
  // The server calls this back whenever anyone lends or returns a book: a live update.
  await root.watch(async (event, title) => {
    const line = `${event}: ${title}`;
    state.news.push(line);
    const item = document.createElement("li");
    item.textContent = line;
    $("#news").prepend(item);
  });
  const search = $<HTMLInputElement>("#search");
  search.oninput = () => void show(root, search.value).catch((err: unknown) => say(String(err)));
  await show(root, "");
  state.ready = true;
}

main().catch((err: unknown) => say(`cannot reach the library: ${String(err)}`));
