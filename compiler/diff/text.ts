// WireTypes as TypeScript-like text for the one-line messages of `rpyc-gen diff` (named types
// by name, functions as signatures, so a callback change reads as what it is).

import type { WireType } from "../model.js";

/** "old -> new" for messages, saying so when both print the same (a named type they use changed). */
export function changeText(oldType: WireType, newType: WireType): string {
  const [a, b] = [typeText(oldType), typeText(newType)];
  return a === b ? `${a} (a type it uses changed)` : `${a} -> ${b}`;
}

/** A WireType as TypeScript-like text, for messages (named types by name). */
export function typeText(type: WireType): string {
  switch (type.kind) {
    case "literal":
      return JSON.stringify(type.value);
    case "array": {
      const element = typeText(type.element);
      return type.element.kind === "union" || type.element.kind === "function" ? `(${element})[]` : `${element}[]`;
    }
    case "tuple":
      return `[${type.elements.map((e, i) => `${typeText(e)}${i >= type.minLength ? "?" : ""}`).join(", ")}]`;
    case "map":
      return `${type.container === "map" ? "Map" : "Record"}<${typeText(type.key)}, ${typeText(type.value)}>`;
    case "object":
      return `{ ${type.fields.map((f) => `${f.name}${f.optional ? "?" : ""}: ${typeText(f.type)}`).join("; ")} }`;
    case "union":
      return type.members.map((m) => (m.kind === "function" ? `(${typeText(m)})` : typeText(m))).join(" | ");
    case "ref":
      return type.name;
    case "netref":
      return type.args ? `${type.name}<${type.args.map(typeText).join(", ")}>` : type.name;
    case "function":
      return `(${type.params.map((p) => `${p.rest ? "..." : ""}${p.name}${p.optional ? "?" : ""}: ${typeText(p.type)}`).join(", ")}) => ${typeText(type.returns)}`;
    case "bytes":
      return "Uint8Array";
    case "date":
      return "Date";
    default:
      return type.kind;
  }
}

/** Source text of a default value, fit for a one-line message. */
export function oneLine(source: string): string {
  const text = source.replace(/\s+/g, " ").trim();
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
