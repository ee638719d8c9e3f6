"""Reading Heartbeat's text files as Heartbeat did: numbered lines, and no binary data.

Heartbeat read ``ha.cf``, ``haresources`` and ``authkeys`` with ``fgets()``: a
line ends at ``\\n``, and ``config.c`` cuts it at the first ``\\r`` or ``\\n``
(``strpbrk(bp, CRLF)``), so DOS line ends are harmless. Bytes are bytes: a
comment written in GBK or Latin-1 never mattered, because comments were thrown
away before anything looked at them. So we decode with ``surrogateescape`` and
complain about undecodable bytes or control characters only where they are
outside a comment, i.e. in text a directive would use. Each file strips its own
comments (``ha.cf`` and ``haresources``: ``#`` anywhere; ``authkeys``: only a
line starting with ``#``), so the caller passes the rule.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vigil.config.diagnostics import Diagnostics

__all__ = ["TextLine", "clean_lines", "read_text", "strip_hash_comment"]

#: No configuration file is this large; a bigger one is the wrong file.
MAX_BYTES = 1024 * 1024
#: Lines that are not text before we stop reading a file and say so.
MAX_BAD_LINES = 3


@dataclass(frozen=True, slots=True)
class TextLine:
    number: int
    text: str  # decoded with surrogateescape, without its line end


def read_text(path: Path, diags: Diagnostics, what: str,
              missing_hint: str) -> list[TextLine] | None:
    """The lines of PATH, or None (with an error) when it cannot be read as text."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            diags.error(path, None, f"is {kind}, not the {what} file",
                        f"give the directory that holds {path.name}")
            return None
        if st.st_size > MAX_BYTES:
            diags.error(path, None, f"is {st.st_size} bytes: too large to be the {what} file",
                        "check that this is the right file")
            return None
        data = path.read_bytes()
    except FileNotFoundError:
        diags.error(path, None, f"no {what} file", missing_hint)
        return None
    except PermissionError:
        diags.error(path, None, f"cannot read the {what} file: permission denied",
                    "run as root, or as a user who may read it")
        return None
    except OSError as e:
        diags.error(path, None, f"cannot read the {what} file: {e.strerror or e}",
                    "check the file and the disk")
        return None
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        diags.error(path, line, f"binary data (a NUL byte): this is not a text {what} file",
                    "check that this is the right file; restore it from a backup if it is")
        return None
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # As config.c: the line ends at the first "\r" too.
    return [TextLine(i, text.split("\r", 1)[0]) for i, text in enumerate(lines, start=1)]


def strip_hash_comment(text: str) -> str:
    """``#`` to the end of the line is a comment (ha.cf, haresources)."""
    return text.split("#", 1)[0]


def _not_text(content: str, raw_bytes: bool) -> str | None:
    for column, ch in enumerate(content, start=1):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF and not raw_bytes:  # undecodable by surrogateescape
            return f"byte 0x{code - 0xDC00:02x} at column {column} is not UTF-8 text"
        if (code < 0x20 and ch not in "\t\f\v") or code == 0x7F:
            return f"control character 0x{code:02x} at column {column}"
    return None


def clean_lines(path: Path, lines: list[TextLine], diags: Diagnostics,
                strip: Callable[[str], str], *,
                raw_bytes: bool = False) -> Iterator[tuple[int, str]]:
    """``(line number, content without comment)`` of each line; garbage lines are errors.

    RAW_BYTES lets bytes that are not UTF-8 through (authkeys: a key is bytes).

    After ``MAX_BAD_LINES`` lines that are not text the file is given up on:
    one clear message beats a page of them about a file that is binary.
    """
    bad = 0
    for line in lines:
        content = strip(line.text)
        problem = _not_text(content, raw_bytes)
        if problem is None:
            yield line.number, content
            continue
        bad += 1
        diags.error(path, line.number, f"not text: {problem}",
                    "remove the stray bytes; only comments may hold non-UTF-8 text")
        if bad >= MAX_BAD_LINES:
            diags.error(path, line.number, "too many lines that are not text; stopped reading",
                        "check that this is the right file")
            return
