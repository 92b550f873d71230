"""rpyc.classic.connect against an rpyc-ts ClassicService server.
Usage: classic_client.py PORT
Prints one RESULT line (JSON) with what each classic operation gave; the TypeScript test
asserts on it. Exits when done, when the parent dies, or after the watchdog's limit."""

import sys

import rpyc  # noqa: F401

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from classic_common import HOST, failure, result, watchdog  # noqa: E402 - after dont_write_bytecode


def main():
    watchdog(60)
    port = int(sys.argv[1])
    conn = rpyc.classic.connect(HOST, port)
    out = {}

    # eval and execute in the shared namespace
    out["root_eval"] = conn.root.eval("1 + 2")
    out["eval"] = conn.eval("1+2")
    out["string"] = conn.eval("'ab'.repeat(3)")
    out["tuple"] = list(conn.eval("[1, 'two', null]"))
    conn.execute("x = 5")
    out["x"] = conn.eval("x")
    conn.execute("function add(a, b) { return a + b }")
    out["add"] = conn.eval("add(x, 10)")
    out["namespace_x"] = conn.namespace["x"]
    out["namespace_contains"] = "x" in conn.namespace
    out["namespace_missing"] = failure(lambda: conn.namespace["nope"])
    conn.namespace["fromPython"] = 11
    out["set_from_python"] = conn.eval("fromPython * 2")
    conn.execute("y = await Promise.resolve(9)")
    out["await"] = conn.eval("y")

    # objects and functions come back as netrefs
    obj = conn.eval("({a: 1, nested: {b: 'two'}})")
    out["obj_a"] = obj.a
    out["obj_nested_b"] = obj.nested.b
    obj.c = 3  # allow_setattr in classic mode
    out["obj_c"] = obj.c
    fn = conn.eval("(n) => n * 2")
    out["fn"] = fn(21)
    out["map_len"] = len(conn.eval("new Map([['k', 1], ['l', 2]])"))
    out["bytes"] = list(conn.eval("new Uint8Array([1, 2, 3])"))

    # modules and builtins
    out["pid"] = conn.modules["node:process"].pid
    out["path_join"] = conn.modules["node:path"].join("a", "b")
    out["os_platform"] = conn.modules.os.platform()
    out["math_max"] = conn.builtins.Math.max(1, 5)
    out["hasattr_missing"] = hasattr(conn.modules, "no_such_module_xyz")
    out["contains_node_os"] = "node:os" in conn.modules
    out["contains_missing"] = "no_such_module_xyz" in conn.modules
    out["missing_module"] = failure(lambda: conn.modules["no_such_module_xyz"])
    out["service_name"] = conn.root.get_service_name()

    # errors raised by the evaluated code
    out["syntax_error"] = failure(lambda: conn.eval("1 +"))
    out["thrown_error"] = failure(lambda: conn.eval("throw new Error('boom')"))
    out["type_error"] = failure(lambda: conn.execute("null.x"))
    out["reference_error"] = failure(lambda: conn.eval("undefinedName"))

    # JavaScript internals stay out of reach even in classic mode
    out["proto"] = failure(lambda: getattr(obj, "__proto__"))
    out["constructor"] = failure(lambda: getattr(obj, "constructor"))
    out["fn_prototype"] = failure(lambda: getattr(fn, "prototype"))
    out["root_constructor"] = failure(lambda: getattr(conn.root, "constructor"))

    # not supported: Python-only helpers
    out["teleport"] = failure(lambda: conn.teleport(lambda: 1))

    conn.close()
    result(out)


if __name__ == "__main__":
    main()
