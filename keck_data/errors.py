"""Typed errors with German messages for people (DESIGN.md rule 7)."""


class KeckError(Exception):
    """Base class: ``str(err)`` is a German sentence that a page can show as is."""


class ValidationError(KeckError):
    """Input was wrong; the message says what and where."""


class NotFoundError(KeckError):
    """A level, area, indicator or other object does not exist."""


class PermissionDenied(KeckError):
    """The acting user may not do this."""


class ConflictError(KeckError):
    """Someone else changed the data meanwhile, or a write kept conflicting."""


class WarehouseError(KeckError):
    """The warehouse file is missing, locked or of an unknown version."""


class WarehouseLocked(WarehouseError):
    """Another process has the warehouse file open (``pid``: that process, if DuckDB named it)."""

    def __init__(self, message: str, pid: int | None = None):
        super().__init__(message)
        self.pid = pid
