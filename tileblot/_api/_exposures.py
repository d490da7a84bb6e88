"""Which exposure of a several-exposure job an error or a warning is about."""

import warnings
from contextlib import contextmanager

from .._io._store import store_label


@contextmanager
def named_exposure(k, count, store):
    """Errors and warnings about exposure ``k`` of a call with ``count`` of them name it and its
    store.

    A ``ValueError`` or ``TypeError`` is raised again with that prefix (the
    command line prints the message alone); a subclass of either, whose own
    class may build its message, gets it as a note. Other errors pass as they
    are. A warning is emitted again with the prefix, from where it was first
    emitted, once the block ends, error or not (the filters in force apply to it there, as
    they did when it was first emitted). With one exposure, nothing changes.
    """
    if count == 1:
        yield
        return
    where = f"exposure {k + 1} of {count} (output {store_label(store)})"
    try:
        with _warnings_prefixed(where):
            yield
    except (ValueError, TypeError) as exc:
        if type(exc) not in (ValueError, TypeError):
            exc.add_note(where)
            raise
        raise type(exc)(f"{where}: {exc}") from exc


@contextmanager
def _warnings_prefixed(where):
    # catch_warnings is process-wide (before Python 3.14): a warning another thread emits
    # meanwhile is prefixed too. The block is short (planning and checks), and such a
    # warning is still shown.
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            yield
    finally:  # also on an error: what was noticed on the way is still said
        for found in caught:
            warnings.warn_explicit(f"{where}: {found.message}", found.category, found.filename,
                                   found.lineno, source=found.source)
