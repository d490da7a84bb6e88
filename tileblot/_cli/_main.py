"""The command line: ``tileblot blot``, ``tileblot demo`` and ``tileblot info``.

Exit status: 0 on success, 2 for a usage error (a bad argument, a missing
input, an output in the way: anything the user can fix by changing the
command), 1 for any other failure, 130 when interrupted. Errors are one line
on stderr; ``--debug`` shows the traceback of an unexpected one.
"""

import argparse
import contextlib
import json
import logging
import math
import os
import sys
import time
import warnings

from .._version import __version__

EXAMPLES = """\
examples:
  tileblot demo                              synthetic mosaic -> 3 exposures, PNG quicklook
  tileblot blot mosaic.zarr pixmap.npy out.zarr
  tileblot blot mosaic.fits[SCI] --wcs-from exposure.fits[SCI] out.zarr --interp linear
  tileblot blot mosaic.zarr --wcs-from exposure.fits out.zarr --scheduler tcp://host:8786
  tileblot blot mosaic.zarr pixmap.zarr out.zarr --resume     finish an interrupted job
  tileblot info out.zarr

run 'tileblot COMMAND --help' for a command's options.
"""

BLOT_HELP = """\
Blot the mosaic DATA onto the pixel grid of one exposure and write it to OUT.

DATA     the mosaic: a zarr array (path), or a FITS image 'file.fits' or 'file.fits[EXT]'
         (EXT: an index, a name such as SCI, or NAME,VER).
PIXMAP   (ny, nx, 2) coordinates (x, y) in DATA of every exposure pixel: a zarr array or a
         .npy file. Or leave it out and pass --wcs-from EXPOSURE.fits: the pixmap is then
         computed tile by tile from the exposure's WCS and the mosaic's, which comes from
         DATA's FITS header or, for a zarr mosaic, from its attribute 'wcs' (a dict of FITS
         header cards, e.g. dict(astropy_wcs.to_header())).
OUT      the output zarr store: a group with 'image' (float32, one chunk per tile) and
         'tiles_done' (which tiles are complete); see 'tileblot info OUT'.
"""

BLOT_EXAMPLES = """\
examples:
  tileblot blot mosaic.zarr pixmap.npy out.zarr --interp lan3 --chunks 1024
  tileblot blot drz.fits[SCI] --wcs-from cal.fits[SCI] out.zarr --interp linear --fillval nan
  tileblot blot mosaic.zarr pixmap.zarr out.zarr --workers 8 --threads-per-worker 2
  tileblot blot mosaic.zarr pixmap.zarr out.zarr --resume
"""

DEMO_HELP = """\
Make a synthetic mosaic (stars, galaxies, noise; a TAN WCS) and 3 dithered, rotated
exposures, blot the mosaic onto every exposure on a local dask cluster, and write into DIR:
mosaic.zarr (its WCS in attrs['wcs']), exposure_1.zarr ... (the blotted exposures) and
quicklook.png. Running it again on the same DIR replaces these files.
"""


class UsageError(Exception):
    """A mistake in the command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors become :class:`UsageError` (one line, no usage dump)."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _chunks(text):
    """``N`` or ``NY,NX`` (positive integers) -> ``int`` or ``(int, int)``."""
    parts = text.split(",")
    try:
        values = [int(part) for part in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected N or NY,NX (positive integers), got {text!r}"
        )
    return values[0] if len(values) == 1 else tuple(values)


def _cluster_options():
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("cluster (default: a local cluster of worker processes)")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="use a running dask scheduler, e.g. tcp://10.0.0.1:8786")
    group.add_argument("--workers", type=_positive_int, metavar="N",
                       help="local worker processes (default: one per CPU)")
    group.add_argument("--threads-per-worker", type=_positive_int, metavar="T",
                       help="threads in each local worker (default: 1)")
    parent.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")
    parent.add_argument("--debug", action="store_true",
                        help="show the full traceback of an unexpected error")
    return parent


def _blot_parser(commands, parent):
    blot = commands.add_parser(
        "blot", parents=[parent], help="blot a mosaic onto one exposure's pixel grid",
        usage="tileblot blot [options] DATA [PIXMAP] OUT", description=BLOT_HELP,
        epilog=BLOT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    blot.add_argument("paths", nargs="+", metavar="DATA [PIXMAP] OUT",
                      help="the mosaic, the pixmap (unless --wcs-from) and the output store")
    blot.add_argument("--wcs-from", metavar="EXPOSURE.fits",
                      help="compute the pixmap from this FITS image's WCS and the mosaic's")
    blot.add_argument("--interp", default="poly5", metavar="K",
                      help="nearest, linear, poly3, poly5 (default), sinc, lan3, lan5")
    blot.add_argument("--fillval", type=_number, default=0.0, metavar="F",
                      help="value of pixels off the mosaic (default 0; 'nan' allowed)")
    blot.add_argument("--iscale", type=_number, default=1.0, metavar="S",
                      help="factor applied to every value (default 1)")
    blot.add_argument("--sinscl", type=_number, default=1.0, metavar="S",
                      help="scale of the sinc kernel (default 1)")
    blot.add_argument("--precision", choices=("drizzle", "high"), default="high",
                      help="'high' (default): float64 throughout; 'drizzle': drizzle 3.0's "
                           "numbers")
    blot.add_argument("--chunks", type=_chunks, metavar="N|NY,NX",
                      help="output tile size (default: the pixmap's zarr chunks, else 1024)")
    mode = blot.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true",
                      help="finish an interrupted job: skip the tiles OUT records as done")
    mode.add_argument("--overwrite", action="store_true", help="replace an existing OUT")


def build_parser():
    """The ``tileblot`` argument parser (subcommands ``blot``, ``demo``, ``info``)."""
    parser = _Parser(
        prog="tileblot",
        description="Blot a drizzled mosaic back onto exposures' pixel grids, tile by tile, "
                    "with dask and numba: drizzle's blot_image for mosaics of any size.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tileblot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parent = _cluster_options()
    _blot_parser(commands, parent)

    demo = commands.add_parser(
        "demo", parents=[parent], help="blot a synthetic mosaic onto 3 exposures (a tour)",
        description=DEMO_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("directory", nargs="?", default="tileblot-demo", metavar="DIR",
                      help="where to write (default: ./tileblot-demo)")
    # Smaller runs for tests and slow machines; the default is the demo the README promises.
    demo.add_argument("--size", type=_positive_int, default=4096, help=argparse.SUPPRESS)
    demo.add_argument("--exposures", type=_positive_int, default=3, help=argparse.SUPPRESS)
    demo.add_argument("--chunks", type=_positive_int, default=512, help=argparse.SUPPRESS)

    info = commands.add_parser(
        "info", help="describe an output store: shape, tiles, parameters, completeness",
        description="Describe a tileblot output store.",
    )
    info.add_argument("store", metavar="OUT", help="a store written by 'tileblot blot'")
    info.add_argument("--json", action="store_true", help="print it as JSON")
    info.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


# --------------------------------------------------------------------------- cluster


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on macOS or Windows
        return os.cpu_count() or 1


@contextlib.contextmanager
def _client(args, echo):
    """A distributed client: on ``--scheduler``, else on a LocalCluster closed on exit."""
    from distributed import Client, LocalCluster

    if args.scheduler:
        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"cannot connect to the scheduler at {args.scheduler}: {exc}"
            ) from None
        with client:
            echo(f"cluster: scheduler {args.scheduler}, "
                 f"{len(client.scheduler_info()['workers'])} workers")
            yield client
        return
    workers = args.workers or _cpu_count()
    threads = args.threads_per_worker or 1
    # Worker processes (the WCS and zarr code hold the GIL). The scheduler's HTTP server gets a
    # free port (":0"): None would still bind 8787 and warn when another cluster holds it.
    # distributed's own chatter (worker start/stop) is silenced.
    with LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                      host="127.0.0.1", dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        dashboard = f", dashboard {client.dashboard_link}" if _has_bokeh() else ""
        echo(f"cluster: local, {workers} worker{'s' * (workers > 1)} x {threads} "
             f"thread{'s' * (threads > 1)}{dashboard}")
        yield client


def _has_bokeh():
    import importlib.util

    # Without bokeh the scheduler serves no dashboard, only its health and metrics routes.
    return importlib.util.find_spec("bokeh") is not None


def _check_cluster_args(args):
    if args.scheduler and (args.workers or args.threads_per_worker):
        raise UsageError("--scheduler runs on an existing cluster: it excludes --workers and "
                         "--threads-per-worker")


# --------------------------------------------------------------------------- WCS


def _fits_header(spec, what):
    """``(header, shape)`` of the image HDU named by ``file.fits[ext]``."""
    from .._io._sources import FitsImage, open_path

    source = open_path(spec, what=what)
    if not isinstance(source, FitsImage):
        raise UsageError(f"{what}: {spec!r} is not a FITS file")
    return source.header(), source.shape


def _wcs(header, label):
    """An astropy WCS from a header, refusing headers without one."""
    from astropy.wcs import WCS, FITSFixedWarning

    if not any(key in header for key in ("CTYPE1", "CRVAL1", "CD1_1", "PC1_1")):
        raise UsageError(f"{label} has no WCS (no CTYPE/CRVAL/CD keywords in its header)")
    with warnings.catch_warnings():
        # astropy reports each header fix-up it makes (DATE-OBS formats, RADECSYS, ...):
        # noise here, the WCS is still the file's.
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            wcs = WCS(header)
        except Exception as exc:  # wcslib raises many types for a bad header
            raise UsageError(f"{label}: cannot read its WCS: {exc}") from None
    if wcs.pixel_n_dim != 2:
        raise UsageError(f"{label}: its WCS has {wcs.pixel_n_dim} axes, not 2")
    return wcs


def _mosaic_header(data):
    """The mosaic's WCS header: FITS header, or the zarr array's ``wcs`` attribute."""
    from .._io._sources import FitsImage, open_path

    source = open_path(data, what="DATA")
    if isinstance(source, FitsImage):
        return _fits_header(data, "DATA")[0]
    attrs = getattr(source, "attrs", None)
    if attrs is None:
        raise UsageError(f"--wcs-from needs the mosaic's WCS, and DATA {data!r} has none: use a "
                         "FITS file or a zarr array with a 'wcs' attribute")
    cards = attrs.get("wcs")
    if not isinstance(cards, dict):
        raise UsageError(f"--wcs-from needs the mosaic's WCS: the zarr array {data!r} has no "
                         "attribute 'wcs' (a dict of FITS header cards)")
    from astropy.io import fits

    return fits.Header(cards)


def _pixmap_from_wcs(data, spec, chunks):
    from ._demo import _require
    from .._pixmaps._wcs import pixmap_from_wcs

    _require("astropy", "astropy")
    exposure_header, shape = _fits_header(spec, "--wcs-from")
    exposure = _wcs(exposure_header, f"--wcs-from {spec}")
    mosaic = _wcs(_mosaic_header(data), f"DATA {data}")
    return pixmap_from_wcs(exposure, mosaic, shape, chunks=chunks)


# --------------------------------------------------------------------------- commands


def _split_paths(args):
    paths = args.paths
    if len(paths) > 3:
        raise UsageError(f"too many paths ({len(paths)}): expected DATA [PIXMAP] OUT")
    if len(paths) == 3 and args.wcs_from:
        raise UsageError("give either PIXMAP or --wcs-from, not both")
    if len(paths) == 2 and not args.wcs_from:
        raise UsageError("missing PIXMAP: give DATA PIXMAP OUT, or DATA OUT with "
                         "--wcs-from EXPOSURE.fits")
    if len(paths) < 2:
        raise UsageError("missing OUT: expected DATA [PIXMAP] OUT")
    return paths[0], (paths[1] if len(paths) == 3 else None), paths[-1]


def _check_output(out, args):
    from .._io._store import store_exists

    exists = store_exists(out)
    if exists and not (args.resume or args.overwrite):
        raise UsageError(f"output {out!r} already exists: pass --overwrite to replace it or "
                         "--resume to finish an interrupted job")
    if args.resume and not exists:
        raise UsageError(f"--resume: output {out!r} does not exist")


def _cmd_blot(args, echo):
    from .._api._blot import prepare_blot
    from .._api._blot_to_zarr import blot_to_zarr
    from .._io._store import describe

    _check_cluster_args(args)
    data, pixmap, out = _split_paths(args)
    if pixmap is None:
        pixmap = _pixmap_from_wcs(data, args.wcs_from, args.chunks)
    options = dict(interp=args.interp, fillval=args.fillval, iscale=args.iscale,
                   sinscl=args.sinscl, precision=args.precision, chunks=args.chunks)
    # Validate everything before a cluster starts: a typo should cost nothing.
    prepare_blot(data, pixmap, sincscl=None, **options)
    _check_output(out, args)
    before = describe(out)["tiles_done"] if args.resume else 0
    with _client(args, echo) as client:
        start = time.perf_counter()
        blot_to_zarr(data, pixmap, out, overwrite=args.overwrite, resume=args.resume,
                     progress=args.progress, client=client, **options)
        seconds = time.perf_counter() - start
    info = describe(out)
    written = info["tiles_done"] - before
    mpix = math.prod(info["shape"]) / 1e6
    echo(f"wrote {out}: {_shape(info['shape'])} pixels, {written} of {info['tiles']} tiles in "
         f"{seconds:.1f} s ({mpix * written / max(info['tiles'], 1) / seconds:.2f} Mpix/s)"
         + (f", {before} already done" if before else ""))
    return 0


def _shape(shape):
    return " x ".join(str(n) for n in shape)


def _cmd_info(args, echo):
    from .._io._store import describe

    if not os.path.exists(args.store) and "://" not in args.store:
        raise UsageError(f"no such output store {args.store!r}")
    info = describe(args.store)
    if args.json:
        echo(json.dumps({**info, "store": args.store}, indent=2, default=str))
        return 0
    params = info.get("params", {})
    done, tiles = info["tiles_done"], info["tiles"]
    lines = [
        ("store", args.store),
        ("image", f"{_shape(info['shape'])} {info['dtype']}"),
        ("tiles", f"{_shape(info['chunks'])} ({tiles} tiles)"),
        ("complete", f"{done} / {tiles} tiles ({100.0 * done / max(tiles, 1):.0f}%)"
                     + ("" if info["complete"] else ": finish with 'tileblot blot ... --resume'")),
        ("parameters", ", ".join(f"{k}={v}" for k, v in params.items())),
        ("data", _describe_input(info.get("data"))),
        ("pixmap", _describe_input(info.get("pixmap"))),
        ("written by", f"tileblot {info.get('version', '?')}"),
    ]
    for key, value in lines:
        echo(f"{key + ':':<12}{value}")
    return 0


def _describe_input(record):
    if not record:
        return "?"
    text = f"{_shape(record.get('shape', []))} {record.get('dtype', '')}"
    token = record.get("token") or []
    # Tokens of file-backed sources are (kind, path, ...): the path is what a user wants.
    if len(token) > 1 and token[0] in ("zarr", "memmap", "fits"):
        text += f" from {token[0]} {token[1]}" + (f"[{token[2]}]" if token[0] == "fits"
                                                  and token[2] != "None" else "")
    return text


def _cmd_demo(args, echo):
    from ._demo import run_demo

    _check_cluster_args(args)
    echo(f"tileblot demo: writing into {args.directory}")
    with _client(args, echo) as client:
        summary = run_demo(args.directory, client, size=args.size, n_exposures=args.exposures,
                           chunks=args.chunks, progress=args.progress, echo=echo)
    mib = 1024.0**2
    if summary["rerun"]:
        echo(f"(re-run: the demo's earlier outputs in {args.directory} were overwritten)")
    echo(f"blotted {summary['tiles']} tiles, {summary['mpix']:.1f} Mpix in "
         f"{summary['seconds']:.1f} s: {summary['mpix'] / summary['seconds']:.2f} Mpix/s "
         "(pixmaps from the WCSs included)")
    echo(f"peak memory: {summary['worker_peak'] / mib:.0f} MiB per worker (max of "
         f"{summary['workers']}), {summary['local_peak'] / mib:.0f} MiB in this process")
    echo("wrote:")
    echo(f"  {summary['mosaic']}   the mosaic (its WCS in attrs['wcs'])")
    for path in summary["outputs"]:
        echo(f"  {path}   a blotted exposure")
    echo(f"  {summary['quicklook']}   quicklook")
    echo(f"next: tileblot info {summary['outputs'][0]}")
    return 0


_COMMANDS = {"blot": _cmd_blot, "demo": _cmd_demo, "info": _cmd_info}


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
        The exit status: 0 success, 1 failure, 2 usage error, 130 interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    # Known before parsing, so even a parsing failure can show its traceback.
    debug = "--debug" in argv
    echo = _echo
    try:
        args, extra = build_parser().parse_known_args(argv)
        _take_extra(args, extra)
        return _COMMANDS[args.command](args, echo)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("tileblot: interrupted" + (" (finish with --resume)" if "blot" in argv else ""),
              file=sys.stderr)
        return 130
    except UsageError as exc:
        return _fail(exc, 2)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        if debug:
            raise
        return _fail(_one_line(exc), 2)
    except ImportError as exc:  # an optional extra (astropy, matplotlib) is not installed
        if debug:
            raise
        hint = "" if "pip install" in str(exc) else "; install it with: pip install 'tileblot[all]'"
        return _fail(_one_line(exc) + hint, 1)
    except Exception as exc:
        if debug:
            raise
        return _fail(f"{type(exc).__name__}: {_one_line(exc)} (rerun with --debug for the "
                     "traceback)", 1)


def _take_extra(args, extra):
    """Paths after options (``DATA --interp linear PIXMAP OUT``) that argparse left over.

    argparse binds a ``nargs="+"`` positional to its first run of values only.
    """
    unknown = [item for item in extra if item.startswith("-") and item != "-"]
    if unknown or (extra and args.command != "blot"):
        raise UsageError(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.paths = [*args.paths, *extra]


def _one_line(exc):
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _echo(line):
    print(line, flush=True)
