// Python's repr() and str() of brine values, so messages read exactly as Python writes them
// (RPyC's "cannot access 'get_question'" uses repr of the name).

import { Complex, Ellipsis, Float, FrozenSet, NotImplemented, Slice } from "./values.js";

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + quote;
}

function reprBytes(b: Uint8Array): string {
  let quote = "'";
  if (b.includes(0x27) && !b.includes(0x22)) quote = '"';
  let out = "b" + quote;
  for (const byte of b) {
    if (byte === quote.charCodeAt(0) || byte === 0x5c) out += "\\" + String.fromCharCode(byte);
    else if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte === 0x09) out += "\\t";
    else if (byte < 0x20 || byte >= 0x7f) out += "\\x" + byte.toString(16).padStart(2, "0");
    else out += String.fromCharCode(byte);
  }
  return out + quote;
}

function reprFloat(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  if (Object.is(n, -0)) return "-0.0";
  const text = String(n);
  return text.includes("e") || text.includes(".") ? text : text + ".0";
}

/** Python `repr()` of a value as it would look on the Python side. */
export function pyRepr(value: unknown): string {
  switch (typeof value) {
    case "string":
      return reprString(value);
    case "number":
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : reprFloat(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "True" : "False";
    case "undefined":
      return "None";
    case "symbol":
      if (value === NotImplemented) return "NotImplemented";
      if (value === Ellipsis) return "Ellipsis";
      return value.toString();
    case "function":
      return `<function ${value.name || "<anonymous>"}>`;
  }
  if (value === null) return "None";
  if (Array.isArray(value)) {
    return value.length === 1 ? `(${pyRepr(value[0])},)` : `(${value.map(pyRepr).join(", ")})`;
  }
  if (value instanceof Uint8Array) return reprBytes(value);
  if (value instanceof Float) return reprFloat(value.value);
  if (value instanceof Complex) return value.toString();
  if (value instanceof Slice) return `slice(${pyRepr(value.start)}, ${pyRepr(value.stop)}, ${pyRepr(value.step)})`;
  if (value instanceof FrozenSet) return value.size === 0 ? "frozenset()" : `frozenset({${[...value].map(pyRepr).join(", ")}})`;
  const name = (value as object).constructor?.name ?? "object";
  return `<${name} object>`;
}

/** Python `str()`: strings as they are, everything else as repr. */
export function pyStr(value: unknown): string {
  return typeof value === "string" ? value : pyRepr(value);
}
