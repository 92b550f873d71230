// Names that generated code derives from the model: file stems, constants, connect helpers,
// proto identifiers. Pure functions of their input, so output stays deterministic.

/** Splits an identifier into words: "MyService" -> ["My", "Service"], "HTTPServer2" -> ["HTTP", "Server", "2"]. */
export function words(name: string): string[] {
  return name.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? [];
}

/** "MyService" -> "my-service" (generated file stems). */
export function kebabCase(name: string): string {
  return words(name)
    .map((w) => w.toLowerCase())
    .join("-");
}

/** "MyService" -> "MY_SERVICE" (generated constants). */
export function constantCase(name: string): string {
  return words(name)
    .map((w) => w.toUpperCase())
    .join("_");
}

/** "labelText" -> "label_text" (proto field names). */
export function snakeCase(name: string): string {
  return words(name)
    .map((w) => w.toLowerCase())
    .join("_");
}

/** "get_answer" -> "GetAnswer", "MY" -> "My", "FLOOP_BLOOP" -> "FloopBloop". */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .flatMap((part) => (part === part.toUpperCase() ? [part] : words(part)))
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
    .join("");
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** True when `name` can be written unquoted as a TypeScript identifier or property key. */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** A property key: `name` when it is an identifier, else a string literal. */
export function propertyKey(name: string): string {
  return isIdentifier(name) ? name : JSON.stringify(name);
}

/** A proto identifier made of `name`: letters, digits and underscores, starting with a letter. */
export function protoIdentifier(name: string, fallback: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, "_");
  if (cleaned.length === 0) return fallback;
  return /^[A-Za-z]/.test(cleaned) ? cleaned : `${fallback}_${cleaned}`;
}

/** Hands out names unique within one scope: the second "Foo" becomes "Foo2", and so on. */
export class NameScope {
  private readonly taken = new Set<string>();

  /** Marks names as used without handing them out (user-declared names win). */
  reserve(...names: string[]): void {
    for (const name of names) this.taken.add(name);
  }

  has(name: string): boolean {
    return this.taken.has(name);
  }

  /** `base`, or `base2`, `base3`, ... whichever is free first; the name is then taken. */
  claim(base: string, separator = ""): string {
    let name = base;
    for (let i = 2; this.taken.has(name); i++) name = `${base}${separator}${i}`;
    this.taken.add(name);
    return name;
  }
}
