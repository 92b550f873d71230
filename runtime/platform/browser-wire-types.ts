// The browser build's stand-in for runtime/compiled/wire-types.ts (scripts/build-packages.ts
// swaps it in): a page has no native codec (protobufjs is never loaded there, and `codec`
// defaults to "brine"), so the protobuf type builder stays out of the bundle. The same
// run-time exports: loadNativeCodec answers that the codec is unavailable, as it does in
// Node without protobufjs, so nothing else here is ever reached.

const ABSENT = "the browser build of rpyc-ts has no native codec";

/** Resolves false: the native codec is never offered nor accepted in a page. */
export function loadNativeCodec(): Promise<boolean> {
  return Promise.resolve(false);
}

export function lib(): never {
  throw new Error(ABSENT);
}

export class Mismatch {
  readonly segments: string[] = [];
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {}
}

export class NotNative extends Error {}

export class Builder {
  constructor() {
    throw new NotNative(ABSENT);
  }
}

export function conversionError(err: unknown): unknown {
  return err;
}
