// Values and types shared by the live interop tests (both directions).

import { Complex, Ellipsis, FrozenSet, NotImplemented, Slice } from "../../runtime/index.js";

/** The value interop_common.all_types_value() builds in Python, built in TypeScript. */
export const ALL_TYPES = [
  null,
  true,
  false,
  [0, 1, -1, 159, -48, 160, -49, 255, 256, 2 ** 31, 2 ** 53 - 1, 2n ** 53n + 1n, 2n ** 63n, -(10n ** 30n), 10n ** 300n],
  [1.5, -0, Infinity, -Infinity, NaN, 1e300, 5e-324],
  "h\u00e9llo w\u00f6rld \u2713 \u{1F40D}",
  "",
  new Uint8Array(),
  Uint8Array.of(0x00, 0xff, 0x10),
  Uint8Array.from({ length: 256 }, (_, i) => i),
  [1, [2, [3, []]], ["deep", [Uint8Array.of(0x78)]]],
  Array.from({ length: 300 }, (_, i) => i),
  new FrozenSet([1, "a", [2, 3]]),
  new FrozenSet(),
  new Slice(1, 10, 2),
  new Slice(null, 5, null),
  new Complex(1, 2),
  new Complex(-0.5, -1.5),
  NotImplemented,
  Ellipsis,
];

/** interop_common.exception_report(): a peer's exception as it arrived in Python. */
export interface Report {
  type: string;
  module: string;
  builtin: string | null;
  args: unknown[];
  remote_tb: string | null;
}

/**
 * An untyped netref. `conn.root` of an untyped connection is a DynamicNetref, whose members
 * are `DynamicAttribute | undefined` under noUncheckedIndexedAccess; tests call them freely.
 */
// biome-ignore lint/suspicious/noExplicitAny: tests call untyped remote members freely.
export type Untyped = any;
