"""The command line: ``tileblot blot``, ``info``, ``export``, ``warmup`` and ``demo``.

Exit status: 0 on success, 2 for a usage error (a bad argument, a missing
input, an output in the way: anything the user can fix by changing the
command), 1 for any other failure, 130 when interrupted (Ctrl-C), 143 when
terminated (SIGTERM), 129 when hung up (SIGHUP), 141 when the reader of stdout
went away (``| head``).
Errors are one line on stderr; ``--debug`` shows the traceback of an
unexpected one.
"""

import atexit
import contextlib
import logging
import os
import pickle
import sys
import threading
import warnings

from .._io._errors import DamagedInputError
from ._commands import COMMANDS
from ._interrupt import install as install_interrupt
from ._interrupt import received as stop_received
from ._interrupt import seen as interrupt_seen
from ._interrupt import stopped_by
from ._parser import UsageError, build_parser, join_negative_numbers, take_extra

#: The packages of tileblot's optional extras (``pip install 'tileblot[all]'``).
_EXTRAS = {"astropy", "matplotlib", "gwcs", "s3fs"}


def _format_warning(message, category, filename, lineno, line=None):
    # One line, as errors are: not Python's file, line number and source line. (Only the
    # text: warnings recorded by a caller's catch_warnings are recorded as they were.)
    return f"tileblot: warning: {_one_line(message)}\n"


def _fail(message, status):
    print(f"tileblot: error: {message}", file=sys.stderr)
    return status


def main(argv=None):
    """Run the ``tileblot`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 failure, 2 usage error, 130 interrupted,
        143 terminated, 129 hung up, 141 stdout closed by its reader.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    resume = " (finish with --resume)" if "blot" in argv else ""
    restore = install_interrupt()
    show = warnings.formatwarning
    warnings.formatwarning = _format_warning
    # An interrupt silences logging (see _cluster.quiet_interrupt): restored here, for a
    # caller of main() in its own process (a notebook, a test) that goes on logging.
    disabled = logging.root.manager.disable
    try:
        status = _run(argv)
        if status:
            # Said in one line: what the interpreter's end adds (zarr's reads still pending
            # when a read failed, destroyed with the event loop: hundreds of lines) is noise.
            _quiet_at_exit()
        return status
    except KeyboardInterrupt:
        interrupt_seen()
        _quiet_at_exit()
        word, status = stopped_by()
        with contextlib.suppress(OSError):  # hung up: the terminal may be gone
            print(f"tileblot: {word}{resume}", file=sys.stderr, flush=True)
        return status
    finally:
        warnings.formatwarning = show
        logging.disable(disabled)
        restore()


def _quiet_at_exit():
    atexit.unregister(_quiet_exit)  # once, however many commands a process runs
    atexit.register(_quiet_exit)


def _quiet_exit():
    """At the exit of a process whose command was stopped or failed: nothing more on stderr.

    Reads under way in zarr's event loop when the signal came (an export's bands), or when
    one read of many failed (a damaged completion record), are destroyed as the interpreter
    ends, and asyncio and Python report each: "Task was destroyed
    but it is pending!", "Exception ignored in <coroutine ...>: Event loop is closed",
    "coroutine ... was never awaited", tens to a hundred lines after the command's one.
    Registered only then, and run only at exit, so that a notebook that called :func:`main`
    keeps its reports until it ends.
    """
    logging.getLogger("asyncio").disabled = True
    sys.unraisablehook = lambda unraisable: None
    threading.excepthook = lambda args: None
    warnings.simplefilter("ignore")


def _run(argv):
    # Known before parsing, so even a parsing failure can show its traceback.
    debug = "--debug" in argv
    try:
        args, extra = build_parser().parse_known_args(join_negative_numbers(argv))
        take_extra(args, extra)
        return COMMANDS[args.command](args, _echo)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except BrokenPipeError:
        # The reader left (``tileblot info OUT | head``): stop quietly, as Unix tools do,
        # with stdout pointed at nothing so that Python's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if "blot" in argv:  # a job cut short: stderr may still be read
            with contextlib.suppress(OSError):
                print("tileblot: stopped: the reader of its output went away (finish with "
                      "--resume)", file=sys.stderr, flush=True)
        return 141
    except Exception as exc:
        if stop_received():
            # A Ctrl-C or SIGTERM whose KeyboardInterrupt library code lost (seen inside
            # numba's compile: "no compiled object yet"): stopped, and said so (exit 130/143).
            raise KeyboardInterrupt from None
        if isinstance(exc, UsageError):
            return _fail(exc, 2)
        if debug:
            raise
        if isinstance(exc, (ValueError, TypeError, FileNotFoundError)) and not isinstance(
                exc, DamagedInputError):  # a damaged store's ValueError: no usage error
            return _fail(_one_line(exc), 2)
        return _failure(exc)


def _failure(exc):
    """Say an error that is not a usage error, in one line; returns the exit status, 1."""
    if isinstance(exc, DamagedInputError):  # its message names the input and the place
        return _fail(_one_line(exc), 1)
    if isinstance(exc, (pickle.UnpicklingError, EOFError)) and _from_numba_cache(exc):
        # numba reads its cache files without a check; the kernels delete a damaged cache
        # and compile again (_kernels._cache.call), unless its files cannot be deleted.
        from .._kernels import CACHE_DIR

        return _fail(f"numba's cache of the kernels is damaged ({type(exc).__name__}: "
                     f"{_one_line(exc)}): delete {str(CACHE_DIR)!r} and run again", 1)
    if isinstance(exc, ImportError):
        if "pip install" in str(exc):  # tileblot's own words for a missing extra
            return _fail(_one_line(exc), 1)
        if (exc.name or "").partition(".")[0] in _EXTRAS:
            return _fail(_one_line(exc) + "; install it with: pip install 'tileblot[all]'", 1)
        # Anything else is a fault, not a missing extra: not worth an install hint.
    return _fail(f"{type(exc).__name__}: {_one_line(exc)} (rerun with --debug for the "
                 "traceback)", 1)


def _from_numba_cache(exc):
    from .._kernels._cache import from_numba_cache  # not before: it imports numba

    return from_numba_cache(exc)


def _one_line(exc):
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _echo(line):
    print(line, flush=True)
