"""``tileblot warmup [--interp K ...] [--precision P ...]``: fill numba's cache before a job."""

import argparse

WARMUP_HELP = """\
Compile the kernels (or load them from numba's disk cache) so that the next job starts at
full speed. The compiled code goes where numba caches it: NUMBA_CACHE_DIR when it is set,
else next to tileblot's sources, else a user-wide directory. Point every worker of a
cluster at one shared NUMBA_CACHE_DIR and run this once: no worker compiles again.
"""


def add_warmup_parser(commands):
    """Add the ``warmup`` subcommand to ``commands`` (an argparse subparsers action)."""
    warmup = commands.add_parser(
        "warmup", help="compile the kernels into numba's disk cache ahead of a job",
        description=WARMUP_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    warmup.add_argument("--interp", nargs="+", metavar="K",
                        help="interpolators to prepare (default: all)")
    warmup.add_argument("--precision", nargs="+", choices=("drizzle", "high"),
                        help="precisions to prepare (default: both)")
    warmup.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return warmup


def cmd_warmup(args, echo):
    """Run ``tileblot warmup``; prints one line per kernel."""
    from .._api._warmup import warmup
    from .._kernels._registry import INTERPOLATORS, resolve

    # Every name checked first (a bad one is refused before any compile), then one kernel at a
    # time, each said as soon as it is ready: an interrupted warmup has said what it cached.
    interps = dict.fromkeys(resolve(name).name for name in args.interp or INTERPOLATORS)
    for interp in interps:
        for record in warmup(interp, args.precision):
            echo(f"{record['interp']:8s}{record['precision']:>8s}  {record['action']:8s}"
                 f"{record['seconds']:7.2f} s")
    return 0


def compiling_notice(interp, precision, echo, client=None):
    """Say, in one line, that this run compiles its kernel (numba's cache has none yet).

    The cache asked is this process's (a local cluster's workers share it), or, with a
    ``client`` of a running scheduler, each worker's: theirs may be another.
    """
    from .._api._warmup import is_cached

    try:
        if client is None:
            states = [is_cached(interp, precision)]
        else:
            # A worker that cannot answer fails the job too, which says why.
            states = list(client.run(is_cached, interp, precision, on_error="return").values())
    except (TypeError, ValueError):  # a bad name: the job's own checks report it
        return
    cold = sum(state is False for state in states)
    if cold:
        where = "" if client is None else (
            f" on {cold} of {len(states)} worker{'s' * (len(states) > 1)}")
        echo(f"compiling the {interp} kernel ({precision}) on first use{where}; "
             "'tileblot warmup' does it ahead of time")
