// The edit the watch measurements make: one new exposed method at the end of a service class.

/** The remote name of the method edit `n` adds (the generated client stub must then contain it). */
export function addedMethodName(n: number): string {
  return `bench_added_${n}`;
}

/** A service file's text with one more exposed method at the end of its (last) class. */
export function withAddedMethod(text: string, n: number): string {
  const end = text.lastIndexOf("}");
  if (end < 0) throw new Error("no class body to add a method to");
  const method = [
    "",
    `  /**`,
    `   * Added by the compiler bench (edit ${n}).`,
    `   * @param value A number.`,
    `   */`,
    `  exposed_${addedMethodName(n)}(value: number, label?: string): string {`,
    '    return `${label ?? ""}${value}`;',
    `  }`,
    "",
  ].join("\n");
  return text.slice(0, end) + method + text.slice(end);
}
