"""Python RPyC server for the explicit-operations test: a Box class with rich comparison,
repr/str and an attribute the client may set and delete. Prints "PORT <n>"."""

import rpyc
from rpyc.utils.server import ThreadedServer

from interop_common import HOST, serve, watchdog


class Box:
    def __init__(self, value):
        self.exposed_value = value

    def __repr__(self):
        return f"Box({self.exposed_value})"

    def __str__(self):
        return f"a box of {self.exposed_value}"

    def __eq__(self, other):
        return self is other

    def __lt__(self, other):
        return self.exposed_value < other.exposed_value

    __hash__ = object.__hash__


class HandlersService(rpyc.Service):
    def exposed_make_box(self, n):
        return Box(n)

    def exposed_box_class(self):
        return Box

    def exposed_dict_class(self):
        return dict

    def exposed_numbers(self):
        return [1, 2, 3]

    def exposed_mapping(self):
        return {"a": 1}


if __name__ == "__main__":
    watchdog(120)
    serve(ThreadedServer(HandlersService, hostname=HOST, port=0,
                         protocol_config={"allow_setattr": True, "allow_delattr": True}))
