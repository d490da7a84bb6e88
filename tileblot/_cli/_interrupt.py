"""A Ctrl-C that always stops the command.

A ``KeyboardInterrupt`` raised inside library code can be lost: measured here, about one
Ctrl-C in three, sent while distributed submits a job's graph, left the job running to its
end. So the first SIGINT also starts a thread that sends SIGINT again to the main thread every
second until the command's own code has seen the interrupt (:func:`seen`); only the main
thread receives these repeats, never the worker processes. Where it was lost (in a garbage
collector callback of distributed's, say), Python would print "Exception ignored in ...":
that report is silenced, for ``KeyboardInterrupt`` only.

SIGTERM (a batch system's wall-time limit, ``timeout``, ``docker stop``) stops the command the
same way, releasing its store's lock, and :func:`terminated` then says so (exit 143): left
to Python's default, it killed the command at once and left the lock, which a job on another
node may not take over.
"""

import signal
import sys
import threading

_state = {"repeating": False, "terminated": False}
_seen = threading.Event()


def seen():
    """The command's code has the ``KeyboardInterrupt`` in hand: stop repeating it."""
    _seen.set()


def _repeat(main_ident):
    while not _seen.wait(1.0):
        signal.pthread_kill(main_ident, signal.SIGINT)


def _on_sigint(signum, frame):
    if not _state["repeating"] and hasattr(signal, "pthread_kill"):
        _state["repeating"] = True
        threading.Thread(target=_repeat, args=(threading.main_thread().ident,), daemon=True,
                         name="tileblot-interrupt").start()
    raise KeyboardInterrupt


def _on_sigterm(signum, frame):
    _state["terminated"] = True
    _on_sigint(signum, frame)


def terminated():
    """Whether the interrupt was a SIGTERM rather than a Ctrl-C."""
    return _state["terminated"]


def _unraisable(unraisable, default=sys.unraisablehook):
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):  # lost: it is repeated
        default(unraisable)


def install():
    """Handle SIGINT and SIGTERM as above (from the main thread only); returns what undoes it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM),
                sys.unraisablehook)
    _seen.clear()
    _state.update(repeating=False, terminated=False)
    signal.signal(signal.SIGINT, _on_sigint)
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.unraisablehook = _unraisable

    def restore():
        _seen.set()  # no repeat may outlive the command
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
        sys.unraisablehook = previous[2]

    return restore
