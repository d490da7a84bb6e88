"""Warnings silenced for a moment, by one thread at a time; tileblot's own never lost to that."""

import threading
import warnings
from contextlib import contextmanager

_LOCK = threading.RLock()


@contextmanager
def warnings_ignored(category=Warning, message=""):
    """:func:`warnings.catch_warnings`, ignoring ``category`` (those whose text starts with
    ``message``, a regular expression, if given), entered by one thread at a time.

    ``catch_warnings`` saves the process's warning filters on entry and puts
    them back on exit: two threads whose blocks overlap put them back out of
    order, and the filter one of them added stays, silencing every later
    warning of the process (seen with two jobs planned on two threads).
    tileblot's own blocks take this lock, so they never overlap one another;
    a user's own block on another thread still can (Python 3.14's
    context-aware warnings would end that).
    """
    with _LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message, category)
        yield


def warn(message, category=UserWarning, stacklevel=1):
    """:func:`warnings.warn`, but never while another thread is in a :func:`warnings_ignored`
    block, whose filter would drop it (seen: one warning of twelve lost, from two jobs on two
    threads, one of them reading a WCS meanwhile). ``stacklevel`` counts from the caller's
    frame, as for :func:`warnings.warn`."""
    with _LOCK:
        warnings.warn(message, category, stacklevel=stacklevel + 1)
