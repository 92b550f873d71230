// The few browser globals the test pages use, typed here: the repository compiles without the
// DOM library (adding it would change Node's globals for every file).

export interface PageGlobals<R> {
  readonly location: { readonly search: string };
  readonly document: { getElementById(id: string): { textContent: string | null } | null };
  /** What the page reports; the test waits for it (test/helpers/browser.ts, results()). */
  results?: R;
}

/** The page's globals, `results` typed as R. */
export function pageGlobals<R>(): PageGlobals<R> {
  return globalThis as unknown as PageGlobals<R>;
}

/** Reports `results` to the test, and shows them in the page (for a screenshot when debugging). */
export function report<R>(results: R): void {
  const page = pageGlobals<R>();
  const status = page.document.getElementById("status");
  if (status) status.textContent = JSON.stringify(results, null, 2);
  page.results = results;
}

/** A query parameter of the page's URL. */
export function param(name: string): string {
  const value = new URLSearchParams(pageGlobals<unknown>().location.search).get(name);
  if (value === null) throw new Error(`the page needs ?${name}=`);
  return value;
}
