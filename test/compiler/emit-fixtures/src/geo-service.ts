// Fixture for test/compiler/emit.test.ts: a service as users write it (see models.ts).
import { Service } from "rpyc-ts";
import { Color, Level, type Id, type Point, type Shape } from "./geo-types.js";

/** Geometry on the wire. */
export class GeoService extends Service {
  calls = 0;
  exposed_version = "1.0";
  readonly exposed_origin: Point = { x: 0, y: 0 };
  get exposed_palette(): Color[] {
    return [Color.Red, Color.Green];
  }
  /**
   * Moves a point.
   * @param p The point to move.
   * @param dx How far right.
   * @param dy How far up.
   */
  exposed_move(p: Point, dx: number, dy = 0): Point {
    this.calls++;
    return { ...p, x: p.x + dx, y: p.y + dy };
  }
  exposed_centroid(points: Point[]): Point {
    this.calls++;
    const n = points.length;
    return { x: points.reduce((s, p) => s + p.x, 0) / n, y: points.reduce((s, p) => s + p.y, 0) / n };
  }
  exposed_when(d: Date): Date {
    return new Date(d.getTime() + 1000);
  }
  exposed_tally(counts: Map<string, number>): Record<string, number> {
    return Object.fromEntries([...counts].map(([k, v]) => [k, v * 2]));
  }
  exposed_area(shape: Shape): number {
    return shape.kind === "circle" ? shape.radius * shape.radius * 3 : shape.side * shape.side;
  }
  exposed_paint(color: Color, level?: Level): string {
    return `${color}:${level ?? 0}`;
  }
  exposed_big(n: bigint): bigint {
    return n * 2n;
  }
  exposed_checksum(data: Uint8Array): Uint8Array {
    return Uint8Array.of(data.reduce((s, b) => (s + b) & 255, 0));
  }
  exposed_span(s: [number, number?]): number {
    return (s[1] ?? s[0]) - s[0];
  }
  exposed_sum(first: number, ...rest: number[]): number {
    return rest.reduce((s, n) => s + n, first);
  }
  async exposed_lookup(id: Id): Promise<string | null> {
    return typeof id === "number" ? `#${id}` : null;
  }
  exposed_grid(): Map<number, Point[]> {
    return new Map([[1, [{ x: 1, y: 1 }]]]);
  }
  exposed_label(item: { name: string; tags: string[] }): string {
    return `${item.name}[${item.tags.join(",")}]`;
  }
  exposed_mix(...colors: Color[]): number {
    return colors.length;
  }
}
