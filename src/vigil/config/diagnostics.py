"""Problems found in configuration files, reported as ``FILE:LINE: severity: message``."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: where, how bad, what, and the fix (``hint``)."""

    file: Path
    line: int | None
    severity: Severity
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        text = f"{where}: {self.severity.value}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_json(self) -> dict[str, object]:
        return {
            "file": str(self.file),
            "line": self.line,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }


class ConfigError(Exception):
    """Configuration that cannot be used; carries every diagnostic found."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.is_error]
        first = errors[0].format() if errors else "invalid configuration"
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(first + more)


class Diagnostics:
    """Collects problems while a parser reads; ``error``/``warning`` never raise."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, file: Path, line: int | None, message: str, hint: str | None = None) -> None:
        self.items.append(Diagnostic(file, line, Severity.ERROR, message, hint))

    def warning(self, file: Path, line: int | None, message: str, hint: str | None = None) -> None:
        self.items.append(Diagnostic(file, line, Severity.WARNING, message, hint))

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def freeze(self) -> tuple[Diagnostic, ...]:
        return tuple(self.items)
