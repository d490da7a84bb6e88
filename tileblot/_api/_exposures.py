"""Which exposure of a several-exposure job an error or a warning is about."""

import contextvars
from contextlib import contextmanager

from .._engine import _quiet
from .._io._store import store_label

#: The exposure the checks running now are about (per thread and task: a context variable,
#: so that jobs on other threads keep their own).
_CURRENT = contextvars.ContextVar("tileblot_exposure", default=None)


@contextmanager
def named_exposure(k, count, store):
    """Errors and warnings about exposure ``k`` of a call with ``count`` of them name it and its
    store.

    A ``ValueError`` or ``TypeError`` is raised again with that prefix (the
    command line prints the message alone); a subclass of either, whose own
    class may build its message, gets it as a note. Other errors pass as they
    are. A warning tileblot emits with :func:`warn` meanwhile starts with
    the prefix. With one exposure, nothing changes.
    """
    if count == 1:
        yield
        return
    where = f"exposure {k + 1} of {count} (output {store_label(store)})"
    token = _CURRENT.set(where)
    try:
        yield
    except (ValueError, TypeError) as exc:
        if type(exc) not in (ValueError, TypeError):
            exc.add_note(where)
            raise
        raise type(exc)(f"{where}: {exc}") from exc
    finally:
        _CURRENT.reset(token)


def warn(message, category=UserWarning, stacklevel=1):
    """:func:`warnings.warn`, the message prefixed with the exposure :func:`named_exposure` is
    in, if any; ``stacklevel`` counts from the caller's frame, as for :func:`warnings.warn`."""
    where = _CURRENT.get()
    if where is not None:
        message = f"{where}: {message}"
    _quiet.warn(message, category, stacklevel=stacklevel + 1)
