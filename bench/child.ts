// Shared by the bench's Node servers: leave cleanly on SIGTERM/SIGINT and, with
// --watch-stdin (as the bench starts them), when stdin reaches EOF, which happens when the
// bench process that started us is gone (even killed with SIGKILL): no server outlives it.

export function exitWithParent(shutdown: () => Promise<void>, watchStdin = process.argv.includes("--watch-stdin")): void {
  let leaving = false;
  const leave = (code: number): void => {
    if (leaving) return;
    leaving = true;
    setTimeout(() => process.exit(code), 2000).unref(); // never hang on a stuck close
    shutdown().then(
      () => process.exit(code),
      () => process.exit(code),
    );
  };
  process.on("SIGTERM", () => leave(0));
  process.on("SIGINT", () => leave(0));
  if (watchStdin) {
    process.stdin.on("end", () => leave(3));
    process.stdin.on("error", () => leave(3));
    process.stdin.resume();
  }
}
