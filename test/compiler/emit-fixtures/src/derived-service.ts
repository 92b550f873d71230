// Fixture for test/compiler/emit.test.ts: a service as users write it (see models.ts).
import { BaseService } from "./base-service.js";

export default class DerivedService extends BaseService {
  exposed_extra(n: number): number {
    return n + 1;
  }
}
