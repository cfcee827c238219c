"""Go log records into Python ``logging`` (logger ``"zkit"``).

Both modes end here: the in-process pump pulls records out of libzkit's
ring (Go never calls into Python), and process mode reads each member's JSON
log lines from its stderr.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Mapping, Optional

LOGGER_NAME = "zkit"
logger = logging.getLogger(LOGGER_NAME)
# A library's logger: silent unless the application configures logging
# (no "last resort" printing of every warning to stderr).
logger.addHandler(logging.NullHandler())

# slog levels: -4 debug, 0 info, 4 warn, 8 error.
_SLOG_NAMES = {"DEBUG": -4, "INFO": 0, "WARN": 4, "WARNING": 4, "ERROR": 8}


def python_level(slog_level: int) -> int:
    """Maps a Go slog level to a ``logging`` level."""
    if slog_level >= 8:
        return logging.ERROR
    if slog_level >= 4:
        return logging.WARNING
    if slog_level >= 0:
        return logging.INFO
    return logging.DEBUG


def go_level_name(level: Optional[int] = None) -> str:
    """The Go log level matching the ``zkit`` logger's effective level (or
    ``level``), so Go formats only records that Python would emit."""
    if level is None:
        level = logger.getEffectiveLevel()
    if level <= logging.DEBUG:
        return "debug"
    if level <= logging.INFO:
        return "info"
    if level <= logging.WARNING:
        return "warn"
    return "error"


def slog_level_of(name: Any) -> int:
    """The slog level of a level name in a JSON log line ("INFO", "WARN+2")."""
    if isinstance(name, int):
        return name
    s = str(name).upper()
    base, _, delta = s.partition("+")
    if not delta:
        base, _, d = s.partition("-")
        delta = "-" + d if d else ""
    try:
        return _SLOG_NAMES.get(base, 0) + (int(delta) if delta else 0)
    except ValueError:
        return _SLOG_NAMES.get(base, 0)


def _fmt(v: Any) -> str:
    s = str(v)
    if s == "" or any(c.isspace() or c in '"=' for c in s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def emit(
    slog_level: int,
    msg: str,
    attrs: Optional[Mapping[str, Any]] = None,
    member: int = 0,
    ensemble: str = "",
    time_ns: Optional[int] = None,
) -> None:
    """Emits one Go record on the ``zkit`` logger.

    The message reads ``"member 2: role state=LEADING epoch=1"``; the record
    also carries ``zkit_member`` (0 when not about one member),
    ``zkit_ensemble`` and ``zkit_attrs`` (the structured attributes), for
    filters and formatters.
    """
    level = python_level(slog_level)
    if not logger.isEnabledFor(level):
        return
    attrs = dict(attrs or {})
    text = msg
    if attrs:
        text += " " + " ".join(f"{k}={_fmt(v)}" for k, v in attrs.items())
    if member:
        text = f"member {member}: {text}"
    extra: Dict[str, Any] = {"zkit_member": member, "zkit_ensemble": ensemble, "zkit_attrs": attrs}
    record = logger.makeRecord(LOGGER_NAME, level, "libzkit", 0, text, (), None, extra=extra)
    if time_ns:
        record.created = time_ns / 1e9
        record.msecs = (time_ns // 1_000_000) % 1000
        record.relativeCreated = (record.created - logging._startTime) * 1000  # type: ignore[attr-defined]
    logger.handle(record)


def emit_dropped(count: int) -> None:
    """Reports records lost because the Go-side buffer was full."""
    logger.warning("zkit: %d Go log records were dropped (the buffer was full)", count)
