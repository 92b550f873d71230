"""A Python RPyC service as it exists in the wild: typed with ordinary hints, served by Python
RPyC 5.3. rpyc-gen reads this file (never runs it) and writes a typed TypeScript client.

Run it:  /usr/bin/python3 examples/python/library_service.py [--port 18871]
(listens on 127.0.0.1; --port 0 picks a free port; prints "PORT <n>" once listening)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable, Optional

import rpyc
from rpyc.utils.server import ThreadedServer


@dataclass
class Book:
    """A book on the shelf."""

    isbn: str
    title: str
    year: int


class LibraryService(rpyc.Service):
    """A small lending library."""

    ALIASES = ["library", "books"]

    exposed_opening_hours: tuple[int, int] = (9, 18)
    """Opening and closing hour."""

    def __init__(self):
        self._books = {
            "978-0262510875": Book("978-0262510875", "Structure and Interpretation of Computer Programs", 1985),
            "978-0201633610": Book("978-0201633610", "Design Patterns", 1994),
        }
        self._loans: dict[str, str] = {}

    def exposed_count(self) -> int:
        """How many books the library holds."""
        return len(self._books)

    def exposed_titles(self) -> list[str]:
        """Every title, sorted (a Python list: it arrives as a netref)."""
        return sorted(book.title for book in self._books.values())

    def exposed_find(self, isbn: str) -> Optional[Book]:
        """The book with this ISBN, or None."""
        return self._books.get(isbn)

    def exposed_year_span(self) -> tuple[int, int]:
        """The oldest and newest publication year (a tuple: it arrives by value)."""
        years = [book.year for book in self._books.values()]
        return (min(years), max(years))

    def exposed_lend(self, isbn: str, reader: str, on_due: Optional[Callable[[str, int], None]] = None) -> bool:
        """Lends a book; calls `on_due(title, days)` back when given."""
        if isbn not in self._books or isbn in self._loans:
            return False
        self._loans[isbn] = reader
        if on_due is not None:
            on_due(self._books[isbn].title, 14)
        return True

    def exposed_fingerprint(self, data: bytes) -> int:
        """An int that does not fit in 2^53: it arrives as a bigint."""
        return int.from_bytes(data, "big") << 64

    def _audit(self) -> dict[str, str]:
        """Not exposed: only the server calls it (private, so allow_public_attrs does not open it either)."""
        return dict(self._loans)


if __name__ == "__main__":
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 18871
    # allow_public_attrs: clients read a returned Book's fields (book.title); RPyC refuses them by default.
    server = ThreadedServer(LibraryService, hostname="127.0.0.1", port=port, protocol_config={"allow_public_attrs": True})
    server._listen()  # listen before saying the port (start() would, but only after this print)
    print(f"PORT {server.port}", flush=True)
    server.start()
