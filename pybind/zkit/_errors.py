"""The one exception type of the zkit package."""

from __future__ import annotations

__all__ = ["ZkitError"]


class ZkitError(Exception):
    """Raised for every failure of the zkit kit: an ensemble that does not
    start or settle, a bad argument, a member that cannot be found, a library
    or binary that is missing, use of the in-process runtime after ``fork()``.

    The message says what failed and, where there is one, what to do.
    """
