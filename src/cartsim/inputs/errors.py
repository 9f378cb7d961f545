"""User-facing errors: one line naming the file and the field at fault."""

from __future__ import annotations


class CartsimError(Exception):
    """An error caused by the user's input; the command line prints it as one line, exit 2."""

    def __init__(
        self,
        message: str,
        file: str | None = None,
        field: str | None = None,
        lineno: int | None = None,
    ) -> None:
        self.file = file
        self.field = field
        self.message = " ".join(message.split())  # one line, whatever the cause
        self.lineno = lineno
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line description: ``file:line: field: message`` (line when known)."""
        where = f"{self.file}:{self.lineno}" if self.file and self.lineno else self.file
        parts = [p for p in (where, self.field) if p]
        return ": ".join([*parts, self.message])


class ScenarioError(CartsimError):
    """A scenario file that cannot be read, composed or validated."""
