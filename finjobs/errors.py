"""The finjobs error tree. Pure: no imports beyond the standard library.

    FinjobsError                 anything finjobs raises on purpose
     +-- InputError (ValueError)  the user must fix the data: bad CSV, unreadable image, bad argument
     +-- NotFound (LookupError)   no such user / import / job (or not yours: same answer)
     +-- ConfigError              the environment is wrong: bad DATABASE_URL, unreachable Redis

A job that meets an InputError records it and returns (no retry: it will not get better).
Every other exception is infrastructure: the job fails, retries with backoff, and can be replayed.
"""

from __future__ import annotations


class FinjobsError(Exception):
    """Base class: CLI prints the message in red and exits 1; the web API answers JSON."""

    code = "error"
    http_status = 500


class InputError(FinjobsError, ValueError):
    """Bad user input. `source` names the file/field, `line` the 1-based line when known."""

    code = "invalid_input"
    http_status = 422

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.detail = message
        where = source or ""
        if line is not None:
            where = f"{where} line {line}" if where else f"line {line}"
        super().__init__(f"{where}: {message}" if where else message)


class NotFound(FinjobsError, LookupError):
    code = "not_found"
    http_status = 404


class ConfigError(FinjobsError):
    """Misconfiguration; the message names the variable."""

    code = "config_error"
    http_status = 500
