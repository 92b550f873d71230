// Parameter names of JavaScript functions, read from their source text, so a Python peer's
// keyword arguments (`root.add(a=1, b=2)`) can be mapped onto positional parameters.
// Generated dispatch tables know the names statically; this serves dynamic services.

const cache = new WeakMap<Function, readonly (string | null)[] | null>();

/** Index just past the bracket that closes the one at `open`, skipping strings and comments. */
function matchingClose(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === "'" || ch === '"' || ch === "`") {
      for (i++; i < source.length && source[i] !== ch; i++) if (source[i] === "\\") i++;
    } else if (ch === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (ch === "/" && source[i + 1] === "*") {
      i = source.indexOf("*/", i + 2);
      if (i < 0) return -1;
      i++;
    } else if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Splits a parameter list at top-level commas. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const ch = list[i]!;
    if (ch === "'" || ch === '"' || ch === "`") {
      for (i++; i < list.length && list[i] !== ch; i++) if (list[i] === "\\") i++;
    } else if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts.map((p) => p.replace(/\/\*[\s\S]*?\*\//g, "").trim()).filter((p) => p !== "");
}

function parse(source: string): (string | null)[] | null {
  if (/^class[\s{]/.test(source) || /\[native code\]/.test(source) || source.startsWith("[")) return null;
  const arrow = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
  if (arrow) return [arrow[1]!];
  const open = source.indexOf("(");
  if (open < 0) return null;
  const close = matchingClose(source, open);
  if (close < 0) return null;
  return splitTopLevel(source.slice(open + 1, close - 1)).map((param) => {
    const name = /^(?:\.\.\.)?\s*([A-Za-z_$][\w$]*)/.exec(param);
    return name ? name[1]! : null; // null: a destructuring pattern has no name to match
  });
}

/** Parameter names of `fn` (null entries for destructured ones), or null if unknown. */
export function parameterNames(fn: Function): readonly (string | null)[] | null {
  let names = cache.get(fn);
  if (names === undefined) {
    names = parse(Function.prototype.toString.call(fn));
    cache.set(fn, names);
  }
  return names;
}

/** Positional arguments for `fn` from positional args plus Python keyword pairs. */
export function applyKeywords(fn: Function, args: readonly unknown[], keywords: readonly (readonly [string, unknown])[]): unknown[] {
  if (keywords.length === 0) return args as unknown[];
  const names = parameterNames(fn);
  const label = `${fn.name || "function"}()`;
  if (!names) throw new TypeError(`${label} does not take keyword arguments (its parameter names are unknown)`);
  const out = [...args];
  for (const [key, value] of keywords) {
    const index = names.indexOf(key);
    if (index < 0) throw new TypeError(`${label} got an unexpected keyword argument '${key}'`);
    if (index < args.length) throw new TypeError(`${label} got multiple values for argument '${key}'`);
    while (out.length < index) out.push(undefined);
    out[index] = value;
  }
  return out;
}
