"""Where each key of a TOML document was written: ``(path) -> line``.

tomllib hands back plain values without positions, yet every message about a
native configuration must name its line. This is a light scan of the source
text, run only on documents tomllib has already accepted (so it may trust
their shape): it follows table headers (``[a.b]``, ``[[a.b]]`` with their
array indexes), ``key = value`` lines, dotted keys, inline tables and the
elements of arrays, and records the line where each path starts.

A path is a tuple of keys and array indexes, as a reader walks the parsed
document: ``("resource", 2, "op", 0, "timeout")``.
"""

from __future__ import annotations

import bisect
import tomllib

__all__ = ["KeyPath", "Lines", "locate"]

KeyPath = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}\n#")


class Lines:
    """Lines of the paths of one document; a missing path falls back to its parent's."""

    def __init__(self, lines: dict[KeyPath, int]) -> None:
        self._lines = lines

    def of(self, path: KeyPath) -> int | None:
        """The line where PATH (or, failing that, its nearest written parent) starts."""
        for n in range(len(path), 0, -1):
            line = self._lines.get(path[:n])
            if line is not None:
                return line
        return None

    def exact(self, path: KeyPath) -> int | None:
        """The line of PATH itself, None when it was not written."""
        return self._lines.get(path)


def locate(text: str) -> Lines:
    """Scan TEXT, a document tomllib accepts, for the line of every key and table."""
    scanner = _Scanner(text)
    scanner.run()
    return Lines(scanner.lines)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.lines: dict[KeyPath, int] = {}
        self.aot: dict[KeyPath, int] = {}  # array-of-tables path -> tables seen so far
        self._starts = [0] + [k + 1 for k, c in enumerate(text) if c == "\n"]

    # -- positions -------------------------------------------------------------

    def line(self) -> int:
        return bisect.bisect_right(self._starts, self.i)

    def record(self, path: KeyPath) -> None:
        self.lines.setdefault(path, self.line())

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < self.n else ""

    def skip_blank(self, newlines: bool) -> None:
        """Skip spaces and tabs, and (with NEWLINES) line ends and comments."""
        while self.i < self.n:
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#" and newlines:
                end = self.s.find("\n", self.i)
                self.i = self.n if end < 0 else end
            else:
                return

    # -- document --------------------------------------------------------------

    def run(self) -> None:
        table: KeyPath = ()
        while True:
            self.skip_blank(newlines=True)
            if self.i >= self.n:
                return
            if self.s.startswith("[[", self.i):
                self.i += 2
                keys = self.key_path()
                self.i = self.s.index("]]", self.i) + 2
                table = self.open_array_table(keys)
            elif self.peek() == "[":
                self.i += 1
                keys = self.key_path()
                self.i = self.s.index("]", self.i) + 1
                table = self.resolve(keys)
                self.record(table)
            else:
                keys = self.key_path()
                self.skip_blank(newlines=False)
                self.i += 1  # "="
                self.skip_blank(newlines=False)
                self.value((*table, *keys))

    def resolve(self, keys: tuple[str, ...]) -> KeyPath:
        """A header's keys as a path: arrays of tables name their latest element."""
        path: KeyPath = ()
        for key in keys:
            path = (*path, key)
            count = self.aot.get(path)
            if count is not None:
                path = (*path, count - 1)
        return path

    def open_array_table(self, keys: tuple[str, ...]) -> KeyPath:
        array = (*self.resolve(keys[:-1]), keys[-1])
        index = self.aot.get(array, 0)
        self.aot[array] = index + 1
        self.record(array)
        path = (*array, index)
        self.record(path)
        return path

    # -- keys and values -------------------------------------------------------

    def key_path(self) -> tuple[str, ...]:
        keys: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            keys.append(self.simple_key())
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return tuple(keys)
            self.i += 1

    def simple_key(self) -> str:
        start = self.i
        if self.peek() in "\"'":
            self.one_line_string()
            raw = self.s[start:self.i]
            return next(iter(tomllib.loads(f"{raw} = 0")))  # the key, unescaped
        while self.i < self.n and self.s[self.i] in _BARE:
            self.i += 1
        return self.s[start:self.i]

    def one_line_string(self) -> None:
        quote = self.peek()
        self.i += 1
        while self.i < self.n and self.peek() != quote:
            self.i += 2 if quote == '"' and self.peek() == "\\" else 1
        self.i += 1

    def value(self, path: KeyPath) -> None:
        self.record(path)
        c = self.peek()
        if self.s.startswith('"""', self.i) or self.s.startswith("'''", self.i):
            self.multiline_string(c)
        elif c in "\"'":
            self.one_line_string()
        elif c == "[":
            self.array(path)
        elif c == "{":
            self.inline_table(path)
        else:
            while self.i < self.n and self.s[self.i] not in _SCALAR_END:
                self.i += 1

    def multiline_string(self, quote: str) -> None:
        self.i += 3
        while self.i < self.n:
            if quote == '"' and self.s[self.i] == "\\":
                self.i += 2
            elif self.s.startswith(quote * 3, self.i):
                self.i += 3
                extra = 0  # up to two more quotes belong to the string itself
                while extra < 2 and self.peek() == quote:
                    self.i += 1
                    extra += 1
                return
            else:
                self.i += 1

    def array(self, path: KeyPath) -> None:
        self.i += 1
        index = 0
        while self.i < self.n:
            self.skip_blank(newlines=True)
            if self.peek() == "]":
                self.i += 1
                return
            self.value((*path, index))
            index += 1
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.i += 1

    def inline_table(self, path: KeyPath) -> None:
        self.i += 1
        while self.i < self.n:
            self.skip_blank(newlines=True)
            if self.peek() == "}":
                self.i += 1
                return
            keys = self.key_path()
            self.skip_blank(newlines=False)
            self.i += 1  # "="
            self.skip_blank(newlines=False)
            self.value((*path, *keys))
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.i += 1
