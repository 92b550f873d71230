"""A Python RPyC service as it exists in the wild: typed with ordinary hints, served by Python
RPyC 5.3. rpyc-gen reads this file (never runs it) and writes a typed TypeScript client.

Run it:  /usr/bin/python3 examples/python/library_service.py [--port 18871]
(listens on 127.0.0.1; --port 0 picks a free port; prints "PORT <n>" once listening)
"""

from __future__ import annotations

import sys
import threading
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

    # One shelf for every client, so a loan made by one is news to the others (watch()).
    _shelf_lock = threading.Lock()
    _books = {
        "978-0262510875": Book("978-0262510875", "Structure and Interpretation of Computer Programs", 1985),
        "978-0201633610": Book("978-0201633610", "Design Patterns", 1994),
    }
    _loans: dict[str, str] = {}
    _watchers: list = []

    def on_disconnect(self, conn):
        with self._shelf_lock:
            self._watchers[:] = [(c, w) for c, w in self._watchers if c is not conn]

    def _tell(self, event: str, title: str) -> None:
        """Calls every watcher back; one that fails (its client left) is dropped."""
        with self._shelf_lock:
            watchers = list(self._watchers)
        for conn, watcher in watchers:
            try:
                watcher(event, title)
            except Exception:
                with self._shelf_lock:
                    self._watchers[:] = [(c, w) for c, w in self._watchers if w is not watcher]

    def on_connect(self, conn):
        self._conn = conn

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

    def exposed_search(self, text: str) -> list[Book]:
        """The books whose title contains `text` (in any case), by title."""
        found = [book for book in self._books.values() if text.lower() in book.title.lower()]
        return sorted(found, key=lambda book: book.title)

    def exposed_lend(self, isbn: str, reader: str, on_due: Optional[Callable[[str, int], None]] = None) -> bool:
        """Lends a book; calls `on_due(title, days)` back when given, and tells the watchers."""
        with self._shelf_lock:
            if isbn not in self._books or isbn in self._loans:
                return False
            self._loans[isbn] = reader
        if on_due is not None:
            on_due(self._books[isbn].title, 14)
        self._tell("lent", self._books[isbn].title)
        return True

    def exposed_give_back(self, isbn: str) -> bool:
        """Returns a lent book to the shelf, and tells the watchers."""
        with self._shelf_lock:
            if self._loans.pop(isbn, None) is None:
                return False
        self._tell("returned", self._books[isbn].title)
        return True

    def exposed_watch(self, on_event: Callable[[str, str], None]) -> None:
        """Calls `on_event(event, title)` back ("lent" or "returned") whenever any client lends or returns a book."""
        with self._shelf_lock:
            self._watchers.append((self._conn, on_event))

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
