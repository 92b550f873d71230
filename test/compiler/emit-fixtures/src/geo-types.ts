// Fixture for test/compiler/emit.test.ts: types the GeoService fixture uses (see models.ts).
/** A point in the plane. */
export interface Point {
  /** Horizontal coordinate. */
  readonly x: number;
  y: number;
  label?: string;
}
/** Paint. */
export enum Color { Red = "red", Green = "green" }
export enum Level { Low = 1, High = 2 }
export interface Circle { kind: "circle"; center: Point; radius: number }
export interface Square { kind: "square"; corner: Point; side: number; color: Color }
/** Something with an area. */
export type Shape = Circle | Square;
export type Id = string | number;
