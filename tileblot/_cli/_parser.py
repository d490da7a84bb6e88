"""The ``tileblot`` argument parser: commands, options, help texts, usage errors."""

import argparse
import json
import math

from .._version import __version__
from ._export import add_export_parser
from ._warmup import add_warmup_parser

EXAMPLES = """\
examples:
  tileblot demo                              # synthetic mosaic -> 3 exposures, PNG quicklook
  tileblot blot mosaic.zarr pixmap.npy out.zarr
  tileblot blot 'mosaic.fits[SCI]' --wcs-from 'exposure.fits[SCI]' out.zarr --interp linear
  tileblot blot mosaic.zarr --wcs-from exposure.fits out.zarr --scheduler tcp://host:8786
  tileblot blot mosaic.zarr pixmap.zarr out.zarr --resume   # finish an interrupted job
  tileblot blot s3://survey/mosaic.zarr s3://survey/pix.zarr s3://survey/out.zarr \\
      --storage-option profile=survey                      # object stores (fsspec URLs)
  tileblot info out.zarr
  tileblot export out.zarr out.fits          # a FITS image with the exposure's WCS

(quote a FITS extension, 'file.fits[SCI]': some shells, zsh among them, read [ ] as a pattern)

run 'tileblot COMMAND --help' for a command's options.
"""

BLOT_HELP = """\
Blot the mosaic DATA onto the pixel grid of one exposure and write it to OUT.

DATA     the mosaic: a zarr array (path), or a FITS image 'file.fits' or 'file.fits[EXT]'
         (EXT: an index, a name such as SCI, or NAME,VER).
         DATA, PIXMAP (zarr) and OUT may be fsspec URLs: s3://bucket/mosaic.zarr, gs://...,
         file://...; --storage-option passes credentials, endpoint_url and the like.
PIXMAP   (ny, nx, 2) coordinates (x, y) in DATA of every exposure pixel: a zarr array or a
         .npy file. Or leave it out and pass --wcs-from EXPOSURE.fits: the pixmap is then
         computed tile by tile from the exposure's WCS and the mosaic's, which comes from
         DATA's FITS header or, for a zarr mosaic, from its attribute 'wcs' (a dict of FITS
         header cards, e.g. dict(astropy_wcs.to_header())).
OUT      the output zarr store: a group with 'image' (float32, one chunk per tile) and
         'tiles_done' (which tiles are complete); see 'tileblot info OUT'.

Precision: the default, --precision high, is float64 coordinates and arithmetic with exact
Lanczos weights: not drizzle's numbers (Lanczos up to ~2e-2 of the peak apart; nearest takes
another pixel where drizzle's float32 rounding crossed a pixel's edge). --precision drizzle
gives drizzle 3.0's numbers. 'tileblot info OUT' says which an output used.

Valid ranges: 0 < --sinscl <= 10; --fillval and --iscale within float32's range (--fillval
may be nan or inf); at most 100,000 tiles.
"""

BLOT_EXAMPLES = """\
examples:
  tileblot blot mosaic.zarr pixmap.npy out.zarr --interp lan3 --chunks 1024
  tileblot blot 'drz.fits[SCI]' --wcs-from 'cal.fits[SCI]' out.zarr --interp linear --fillval nan
  tileblot blot mosaic.zarr pixmap.zarr out.zarr --workers 8 --threads-per-worker 2
  tileblot blot mosaic.zarr pixmap.zarr out.zarr --resume
"""

DEMO_HELP = """\
Make a synthetic mosaic (stars, galaxies, noise; a TAN WCS) and 3 exposures, each dithered,
rolled by 8 to 30 degrees and with pixels a few per cent coarser or finer, blot the mosaic
onto every exposure on a local dask cluster, and write into DIR: mosaic.zarr (its WCS in
attrs['wcs']), exposure_1.zarr ... (the blotted exposures, their WCSs recorded; 'tileblot
export' makes FITS of them) and quicklook.png (the mosaic with the exposures' footprints
next to every blot, on sky axes). Running it again on the same DIR replaces these files.
"""


#: What each precision gives, in the words of the help, ``info`` and the docs.
PRECISIONS = {
    "high": "float64 coordinates and arithmetic, exact Lanczos weights; differs from drizzle "
            "3.0 by up to ~2e-2 of the peak for Lanczos, and for nearest by another pixel "
            "where drizzle's float32 rounding crossed a pixel's edge",
    "drizzle": "drizzle 3.0's numbers (float32 coordinates, its Lanczos table and edge rules)",
}


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


def _positive_number(text):
    value = _number(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _number(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if math.isinf(value) and "inf" not in text.lower():
        # 1e999: Python reads it as infinity; only a written inf means that.
        raise argparse.ArgumentTypeError(f"{text!r} is beyond the range of a float (write "
                                         "inf for infinity)")
    return value


#: Options that take a number, which may be negative (``--fillval -inf``).
NUMBER_OPTIONS = ("--fillval", "--iscale", "--sinscl")


def join_negative_numbers(argv):
    """``argv`` with ``--fillval -inf`` written ``--fillval=-inf`` (the same for each number).

    argparse takes a value that starts with ``-`` for an option unless it looks like
    ``-1`` or ``-1.5``, so ``-inf``, ``-1e-3`` and ``-1E5`` were refused as a missing value.
    """
    joined, items = [], iter(argv)
    for item in items:
        # argparse also takes an unambiguous prefix (--fill): so do we.
        if item.startswith("--") and any(name.startswith(item) for name in NUMBER_OPTIONS):
            value = next(items, None)
            if value is not None and value.startswith("-") and _is_float(value):
                joined.append(f"{item}={value}")
                continue
            joined.append(item)
            if value is not None:
                joined.append(value)
            continue
        joined.append(item)
    return joined


def _is_float(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _codec(text):
    """A codec name the output store accepts (see ``tileblot._io._codecs``)."""
    from .._io._codecs import compressors_for

    try:
        compressors_for(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _chunks(text):
    """``N`` or ``NY,NX`` (positive integers) -> ``int`` or ``(int, int)``; ``auto`` as it is."""
    if text.strip().lower() == "auto":
        return "auto"
    parts = text.split(",")
    try:
        values = [int(part) for part in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected N or NY,NX (positive integers) or auto, got {text!r}"
        )
    return values[0] if len(values) == 1 else tuple(values)


#: fsspec options that only ever take a string (credentials and names): an access key of
#: digits read as JSON became a number, which botocore refused with a bare TypeError.
STRING_OPTIONS = frozenset({"key", "secret", "token", "profile", "username", "password",
                            "account_name", "account_key", "sas_token", "project",
                            "endpoint_url"})


def _storage_option(text):
    """``KEY=VALUE`` -> ``(KEY, VALUE)``; a VALUE that parses as JSON is taken as JSON, except
    a number, boolean or null for the options of :data:`STRING_OPTIONS` (kept as written)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        return key, value
    if key in STRING_OPTIONS and (parsed is None or isinstance(parsed, (bool, int, float))):
        return key, value  # a JSON string, object or list is kept (gcsfs takes a dict token)
    return key, parsed


def add_storage_option(parser):
    """``--storage-option KEY=VALUE`` (repeatable): fsspec options for every URL given."""
    parser.add_argument(
        "--storage-option", dest="storage_options", action="append", type=_storage_option,
        default=[], metavar="KEY=VALUE",
        help="an fsspec option for the s3://, gs://, ... URLs given (repeatable), e.g. "
             "profile=survey, endpoint_url=http://minio:9000 or anon=true; VALUE is read as "
             "JSON if it parses, else as a string (credentials, profile and endpoint_url "
             "are never numbers)",
    )
    return parser


def _cluster_options():
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("cluster (default: a local cluster of worker processes)")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="use a running dask scheduler, e.g. tcp://10.0.0.1:8786 (its "
                            "port, not the dashboard's 8787)")
    group.add_argument("--timeout", type=_positive_number, default=10.0, metavar="S",
                       help="seconds to wait for the scheduler's answer, and for a first "
                            "worker if it has none yet (default 10)")
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
                      help=f"'high' (default): {PRECISIONS['high']}; 'drizzle': "
                           f"{PRECISIONS['drizzle']}")
    blot.add_argument("--stepsize", type=_positive_int, default=1, metavar="S",
                      help="with --wcs-from: evaluate the WCSs every S pixels and interpolate "
                           "bilinearly in between (default 1: every pixel, exact). Faster (3.8 "
                           "Mpix/s at 1, 24 at 4, 35 at 8) for an error growing as S**2: on an "
                           "ACS-like SIP distortion 8e-5 px at 4, 3e-4 at 8, 1.3e-3 at 16, 5e-3 "
                           "at 32 (docs: pixmaps)")
    blot.add_argument("--chunks", type=_chunks, metavar="N|NY,NX|auto",
                      help="output tile size (default: the pixmap's zarr chunks, else 1024; "
                           "'auto': the largest square tile whose task fits the memory budget)")
    blot.add_argument("--codec", type=_codec, default="blosc-lz4", metavar="NAME",
                      help="output codec: blosc-lz4 (default), blosc-zstd, zstd, zstd-N "
                           "(level N) or none")
    mode = blot.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true",
                      help="finish an interrupted job: skip the tiles OUT records as done")
    mode.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    blot.add_argument("--verify", action="store_true",
                      help="with --resume: first decode every done tile and redo corrupt ones "
                           "(reads the whole image)")
    blot.add_argument("--break-lock", action="store_true",
                      help="take OUT even if another job's lock is on it (only when that job "
                           "is gone; a dead process's lock on this host is taken anyway)")
    add_storage_option(blot)


def build_parser():
    """The ``tileblot`` argument parser (``blot``, ``demo``, ``export``, ``info``, ``warmup``)."""
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
    add_storage_option(add_export_parser(commands))
    add_warmup_parser(commands)

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
    info.add_argument("--verify", action="store_true",
                      help="also read and decode every tile's chunk and report corrupt ones "
                           "(reads the whole image); exit 1 if any tile is missing or corrupt")
    info.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    add_storage_option(info)
    return parser


def take_extra(args, extra):
    """Paths after options (``DATA --interp linear PIXMAP OUT``) that argparse left over.

    argparse binds a ``nargs="+"`` positional to its first run of values only.
    """
    paths = getattr(args, "paths", None)
    if paths and "--" in paths:  # the end of options, which some argparses leave among them
        paths.remove("--")
    if "--" in extra:
        extra = [item for item in extra if item != "--"]
    unknown = [item for item in extra if item.startswith("-") and item != "-"]
    if unknown or (extra and args.command != "blot"):
        raise UsageError(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.paths = [*args.paths, *extra]
    _check_not_empty(args)


#: The path arguments of the commands, as their help names them.
_PATHS = {"store": "OUT", "path": "FILE", "directory": "DIR", "wcs_from": "--wcs-from"}


def _check_not_empty(args):
    """An empty path (a shell variable that is not set) is named, not taken for the current
    folder or for a store that "already exists"."""
    named = [(name, getattr(args, attr, None)) for attr, name in _PATHS.items()]
    paths = getattr(args, "paths", None) or []
    names = {1: ["DATA"], 2: ["DATA", "OUT"]}.get(len(paths), ["DATA", "PIXMAP", "OUT"])
    named += list(zip(names, paths, strict=False))
    for name, value in named:
        if isinstance(value, str) and not value.strip():
            raise UsageError(f"{name} is empty (a shell variable that is not set?)")
