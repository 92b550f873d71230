"""A service for rpyc-gen --introspect: methods with docstrings, plain and callable
attributes, a property, a classmethod, ALIASES, members that must stay hidden, and one
exposed member whose getattr the service refuses. Served by Python RPyC on 127.0.0.1
(port 0) with the default config.
Usage: introspect_server.py [--variant base|added|removed|changed]
  base     the service as the stub knows it
  added    one more exposed method (exposed_multiply)
  removed  exposed_version is gone
  changed  exposed_version is a method instead of an attribute
  renamed  ALIASES in another order: formal name CALCULATOR
Prints "PORT <n>"; exits when the parent dies or after the watchdog's limit."""

import sys

import rpyc
from rpyc.utils.server import ThreadedServer

sys.dont_write_bytecode = True  # no __pycache__ next to the fixtures
from interop_common import HOST, serve, watchdog  # noqa: E402

# Every side effect a member could have if introspection called it: the test reads them.
CALLS = []


def shout(text):
    """Upper-cases text (a module function, exposed as a callable attribute)."""
    CALLS.append("shout")
    return text.upper()


class Settings:
    """A plain object: exposed as an attribute, travels as a netref."""

    precision = 2


class Calculator(rpyc.Service):
    """Adds and counts.

    Served by Python RPyC for the introspection tests.
    """

    ALIASES = ["calc", "calculator"]

    def __init__(self):
        # an instance attribute that is callable: not in the class, so INSPECT does not list it
        self.exposed_on_event = shout
        self.exposed_history = ("1+1",)

    def exposed_add(self, a, b):
        """Adds two numbers."""
        CALLS.append("add")
        return a + b

    def exposed_reset(self):
        CALLS.append("reset")

    @classmethod
    def exposed_create(cls):
        """Makes a new calculator."""
        CALLS.append("create")
        return cls()

    @property
    def exposed_status(self):
        return "ready"

    @property
    def exposed_flaky(self):
        raise RuntimeError("not ready yet")  # reading fails, but the member exists

    exposed_settings = Settings()
    exposed_formatter = shout  # a class attribute that is a function: a method like any other

    def exposed_secret(self):
        """Refused below: introspection must report it, not drop it."""
        return "hidden"

    def exposed_calls(self):
        """What has been called so far (the tests check introspection called nothing)."""
        return tuple(CALLS)

    def _rpyc_getattr(self, name):
        # RPyC's default rules (protocol._check_attr), except that one exposed member is refused.
        if name in ("exposed_secret", "secret"):
            raise AttributeError("access denied")
        if name.startswith("exposed_") or name in rpyc.core.protocol.DEFAULT_CONFIG["safe_attrs"]:
            return getattr(self, name)
        if hasattr(self, "exposed_" + name):
            return getattr(self, "exposed_" + name)
        raise AttributeError(f"cannot access {name!r}")

    def get_question(self):  # not exposed: must not appear
        CALLS.append("get_question")
        return "?"

    hidden_value = 7  # not exposed: must not appear


class CalculatorService(Calculator):
    __doc__ = Calculator.__doc__
    exposed_version = "1.2"


class AddedService(CalculatorService):
    __doc__ = Calculator.__doc__

    def exposed_multiply(self, a, b):
        """Multiplies two numbers."""
        return a * b


class RemovedService(Calculator):
    __doc__ = Calculator.__doc__  # no exposed_version


class ChangedService(Calculator):
    __doc__ = Calculator.__doc__

    def exposed_version(self):
        """The version, now computed."""
        return "1.3"


class RenamedService(CalculatorService):
    __doc__ = Calculator.__doc__
    ALIASES = ["calculator", "calc"]  # same members, another formal name


VARIANTS = {
    "base": CalculatorService,
    "added": AddedService,
    "removed": RemovedService,
    "changed": ChangedService,
    "renamed": RenamedService,
}

if __name__ == "__main__":
    watchdog()
    variant = sys.argv[sys.argv.index("--variant") + 1] if "--variant" in sys.argv else "base"
    server = ThreadedServer(VARIANTS[variant], hostname=HOST, port=0)
    serve(server)
