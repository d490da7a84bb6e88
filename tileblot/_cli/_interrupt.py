"""A Ctrl-C that always stops the command.

A ``KeyboardInterrupt`` raised inside library code can be lost: measured here, about one
Ctrl-C in three, sent while distributed submits a job's graph, left the job running to its
end. So the first SIGINT also starts a thread that sends SIGINT again to the main thread every
second until the command's own code has seen the interrupt (:func:`seen`); only the main
thread receives these repeats, never the worker processes. Where it was lost (in a garbage
collector callback of distributed's, say), Python would print "Exception ignored in ...":
that report is silenced, for ``KeyboardInterrupt`` only.

SIGTERM (a batch system's wall-time limit, ``timeout``, ``docker stop``) and SIGHUP (the
terminal or the ssh session closed) stop the command the same way, releasing its store's
lock, and :func:`stopped_by` then says which (exit 143 and 129): left to Python's default,
each killed the command at once, silently, and left the lock, which a job on another node
may not take over (and an export's partial file). A signal the command was started with
ignored stays ignored: ``nohup`` (SIGHUP), a shell's background job (SIGINT).
"""

import signal
import sys
import threading

#: How the command reports each signal it stops on: the word and the exit status.
_STOPS = {signal.SIGINT: ("interrupted", 130), signal.SIGTERM: ("terminated", 143)}
if hasattr(signal, "SIGHUP"):  # not on Windows
    _STOPS[signal.SIGHUP] = ("hung up", 129)

_state = {"repeating": False, "signal": signal.SIGINT, "received": False}
_seen = threading.Event()


def seen():
    """The command's code has the ``KeyboardInterrupt`` in hand: stop repeating it."""
    _seen.set()


def _repeat(main_ident, signum):
    while not _seen.wait(1.0):
        signal.pthread_kill(main_ident, signum)


def received():
    """Whether a stop signal came since :func:`install`: an error that comes out of the command
    then is that signal's consequence (its ``KeyboardInterrupt`` lost inside numba's compile,
    say), and the command was stopped, not failed."""
    return _state["received"]


def _on_sigint(signum, frame):
    _state["received"] = True
    if not _state["repeating"] and hasattr(signal, "pthread_kill"):
        _state["repeating"] = True
        # The signal that came, whose handler is installed: SIGINT may be ignored (a shell's
        # background job), and then a repeated SIGINT would do nothing.
        threading.Thread(target=_repeat, args=(threading.main_thread().ident, signum),
                         daemon=True, name="tileblot-interrupt").start()
    raise KeyboardInterrupt


def _on_stop(signum, frame):
    _state["signal"] = signum
    _on_sigint(signum, frame)


def stopped_by():
    """``(word, exit status)`` of the signal that stopped the command (a Ctrl-C if none)."""
    return _STOPS[_state["signal"]]


def _unraisable(unraisable, default=sys.unraisablehook):
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):  # lost: it is repeated
        default(unraisable)


def install():
    """Handle the signals of :data:`_STOPS` as above (from the main thread only, and not those
    the process ignores); returns what undoes it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {signum: signal.getsignal(signum) for signum in _STOPS}
    hook = sys.unraisablehook
    _seen.clear()
    _state.update(repeating=False, signal=signal.SIGINT, received=False)
    for signum, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(signum, _on_sigint if signum == signal.SIGINT else _on_stop)
    sys.unraisablehook = _unraisable

    def restore():
        _seen.set()  # no repeat may outlive the command
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = hook

    return restore
