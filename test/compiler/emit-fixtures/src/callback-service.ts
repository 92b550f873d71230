// Fixture for test/compiler/emit.test.ts: a service as users write it (see models.ts).
import { Service } from "rpyc-ts";
import { Child as ChildService } from "./child-service.js";

export class Widget {
  name = "w";
  describe(): string {
    return this.name;
  }
}

export class CallbackService extends Service {
  exposed_apply(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    return fn(x);
  }
  exposed_make_adder(n: number): (x: number) => number {
    return (x) => x + n;
  }
  async exposed_each(items: string[], visit: (item: string, index: number) => Promise<void>): Promise<number> {
    for (let i = 0; i < items.length; i++) await visit(items[i]!, i);
    return items.length;
  }
  exposed_child(): ChildService {
    return new ChildService();
  }
  exposed_adopt(child: ChildService): string {
    return typeof child;
  }
  exposed_hold(w: Widget): boolean {
    return w !== null && w !== undefined;
  }
  exposed_inspect(value: unknown): string {
    return typeof value;
  }
}
