// The matrix service as a user describes it with an interface instead of the class (the
// `connect<Interface>()` form of test/compiled/matrix.test.ts): its members without the
// exposed_ prefix, with the types the class declares.
import type { ChildService, Color, Counter, Person } from "../../fixtures/matrix/matrix-service.js";

export interface MatrixApi {
  number(): number;
  bigint(): bigint;
  few(): bigint;
  text(): string;
  bytes(): Uint8Array;
  flag(): boolean;
  nothing(): null;
  person(): Person;
  numbers(): number[];
  pair(): [string, number];
  scores(): Map<string, number>;
  record(): Record<string, number>;
  when(): Date;
  letters(): Set<string>;
  color(): Color;
  either(): string | number;
  apply(fn: (x: number) => Promise<number>, x: number): Promise<number>;
  greet(person: Person): string;
  counter(): Counter;
  child(): ChildService;
}
