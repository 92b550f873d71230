// Access control, enumerated against a real Python RPyC client and a raw-socket client:
// JavaScript internals, RPyC's private names, forged, stale and other-connection ids and wrong
// argument shapes are refused with RPyC's error types, whatever allow_* config is set.

import { describe, expect, it } from "vitest";
import * as C from "../../runtime/wire/consts.js";
import { Service, type ProtocolConfig } from "../../runtime/index.js";
import { requirePythonRpyc, runPythonClient } from "../helpers/python.js";
import { RawPeer, type Message } from "../helpers/raw-peer.js";
import { serve } from "../helpers/servers.js";

const JS_INTERNALS = [
  "__proto__",
  "constructor",
  "prototype",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "toString",
  "valueOf",
  "call",
  "apply",
  "bind",
  "caller",
  "arguments",
];
const RPYC_PRIVATE = ["_rpyc_getattr", "_rpyc_setattr", "_rpyc_delattr", "____conn__", "____id_pack__", "____refcount__", "on_connect", "on_disconnect"];

class Target extends Service {
  exposed_get_answer(): number {
    return 42;
  }
  exposed_get_function(): () => number {
    return function helper() {
      return 1;
    };
  }
  exposed_get_object(): { value: number } {
    return { value: 7 };
  }
}

const CONFIGS: [string, Partial<ProtocolConfig>][] = [
  ["the default config", {}],
  ["every allow_* switch on", { allow_all_attrs: true, allow_public_attrs: true, allow_setattr: true, allow_delattr: true, allow_pickle: true }],
];

interface Outcome {
  ok?: string;
  error?: string;
}

describe.each(CONFIGS)("with %s", (_label, protocolConfig) => {
  it("a Python client is refused every internal name, and forged, stale and foreign ids", async () => {
    requirePythonRpyc();
    const server = await serve(Target, { protocolConfig });
    const report = (await runPythonClient("../../security/python/access_client.py", [String(server.port)], 30_000)) as Record<string, Outcome>;
    for (const target of ["root", "function", "object"]) {
      for (const name of [...JS_INTERNALS, ...RPYC_PRIVATE]) {
        for (const op of ["getattr", "callattr", "setattr", "delattr"]) {
          const key = `${target}.${op}.${name}`;
          // Services refuse every write with "access denied"; everything else "cannot access".
          expect(report[key], key).toEqual({ error: "AttributeError" });
        }
      }
    }
    for (const key of ["forged.getattr", "forged.call", "forged.del", "forged.inspect", "stale.getattr", "other_connection.getattr"]) {
      expect(report[key], key).toEqual({ error: "KeyError" });
    }
    expect(report["shape.getattr_one_arg"]).toEqual({ error: "TypeError" });
    expect(report["shape.getattr_int_name"]).toEqual({ error: "TypeError" });
    expect(report["shape.call_args_not_tuple"]).toEqual({ error: "TypeError" });
    expect(report["shape.call_bad_kwargs"]).toEqual({ error: "TypeError" });
    expect(report["shape.del_bad_count"]).toEqual({ error: "TypeError" });
    expect(report["shape.unknown_handler"]).toEqual({ error: "KeyError" });
    expect(report["after.get_answer"]).toEqual({ ok: "42" });
  });

  it("a raw-socket client gets the same refusals as exception replies, and the connection goes on", async () => {
    const server = await serve(Target, { protocolConfig });
    const peer = await RawPeer.connect(server.port);
    let seq = 0;
    const ask = async (handler: number, boxed: unknown): Promise<Message> => {
      const mine = seq++;
      peer.request(mine, handler, boxed as never);
      return peer.nextMatching((m) => m[1] === mine, 5000, `reply to seq ${mine}`);
    };
    const refOf = (reply: Message): unknown => (reply[2] as [number, unknown])[1];
    const exceptionType = (reply: Message): string => {
      expect(reply[0]).toBe(C.MSG_EXCEPTION);
      return ((reply[2] as unknown[])[0] as string[])[1]!;
    };
    const root = refOf(await ask(C.HANDLE_GETROOT, [C.LABEL_VALUE, []]));
    const local = (pack: unknown): unknown => [C.LABEL_LOCAL_REF, pack];
    const fn = refOf(await ask(C.HANDLE_CALLATTR, [C.LABEL_TUPLE, [local(root), [C.LABEL_VALUE, "get_function"], [C.LABEL_VALUE, []], [C.LABEL_VALUE, []]]]));
    for (const target of [root, fn]) {
      for (const name of [...JS_INTERNALS, ...RPYC_PRIVATE]) {
        const named = [C.LABEL_VALUE, name];
        expect(exceptionType(await ask(C.HANDLE_GETATTR, [C.LABEL_TUPLE, [local(target), named]])), `getattr ${name}`).toBe("AttributeError");
        expect(
          exceptionType(await ask(C.HANDLE_CALLATTR, [C.LABEL_TUPLE, [local(target), named, [C.LABEL_VALUE, []], [C.LABEL_VALUE, []]]])),
          `callattr ${name}`,
        ).toBe("AttributeError");
        expect(exceptionType(await ask(C.HANDLE_SETATTR, [C.LABEL_TUPLE, [local(target), named, [C.LABEL_VALUE, 1]]])), `setattr ${name}`).toBe(
          "AttributeError",
        );
        expect(exceptionType(await ask(C.HANDLE_DELATTR, [C.LABEL_TUPLE, [local(target), named]])), `delattr ${name}`).toBe("AttributeError");
      }
    }
    const forged = ["rpyc_ts.Target", 1, 123456789];
    expect(exceptionType(await ask(C.HANDLE_GETATTR, [C.LABEL_TUPLE, [local(forged), [C.LABEL_VALUE, "x"]]]))).toBe("KeyError");
    // Stale: release the function (DEL) and use its id again.
    await ask(C.HANDLE_DEL, [C.LABEL_TUPLE, [local(fn), [C.LABEL_VALUE, 1]]]);
    expect(exceptionType(await ask(C.HANDLE_CALL, [C.LABEL_TUPLE, [local(fn), [C.LABEL_VALUE, []], [C.LABEL_VALUE, []]]]))).toBe("KeyError");
    // Another connection's id.
    const other = await RawPeer.connect(server.port);
    other.request(0, C.HANDLE_GETATTR, [C.LABEL_TUPLE, [local(root), [C.LABEL_VALUE, "get_answer"]]] as never);
    expect(exceptionType(await other.nextMatching((m) => m[1] === 0))).toBe("KeyError");
    // Wrong shapes.
    expect(exceptionType(await ask(C.HANDLE_GETATTR, [C.LABEL_TUPLE, [local(root)]]))).toBe("TypeError");
    expect(exceptionType(await ask(C.HANDLE_GETATTR, [C.LABEL_TUPLE, [local(root), [C.LABEL_VALUE, 5]]]))).toBe("TypeError");
    expect(exceptionType(await ask(99, [C.LABEL_VALUE, []]))).toBe("KeyError");
    // Still served.
    const answer = await ask(C.HANDLE_CALLATTR, [C.LABEL_TUPLE, [local(root), [C.LABEL_VALUE, "get_answer"], [C.LABEL_VALUE, []], [C.LABEL_VALUE, []]]]);
    expect(answer[0]).toBe(C.MSG_REPLY);
    expect(refOf(answer)).toBe(42);
    await other.close();
    await peer.close();
  });
});
