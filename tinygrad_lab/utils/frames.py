"""Finding the user's code on the call stack: the first frame outside tinygrad_lab.

Anomaly reports name the user's line that created a node; warnings point at
the user's call rather than at the library's internals.

Example:
    >>> user_stacklevel() >= 1
    True
"""
from __future__ import annotations

import linecache
import os
import sys
from types import FrameType

__all__ = ["user_frame", "user_location", "user_stacklevel"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _is_library(frame: FrameType) -> bool:
    return frame.f_code.co_filename.startswith(_PACKAGE_DIR)


def user_frame(skip: int = 1) -> FrameType | None:
    """The innermost frame of the caller's stack whose code lies outside the tinygrad_lab package."""
    frame: FrameType | None = sys._getframe(skip)
    while frame is not None and _is_library(frame):
        frame = frame.f_back
    return frame


def user_location() -> str:
    """'file:line: code' of the user's frame (where the user's code called into the library)."""
    frame = user_frame(2)
    if frame is None:
        return "<unknown>"
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {code}"


def user_stacklevel() -> int:
    """The `stacklevel` for `warnings.warn`, called by our caller, that points at the user's frame."""
    frame: FrameType | None = sys._getframe(2)
    level = 2
    while frame is not None and _is_library(frame):
        frame, level = frame.f_back, level + 1
    return level
