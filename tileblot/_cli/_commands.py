"""The commands (``blot``, ``info``, ``demo``; ``export`` and ``warmup`` from their modules), each
``(args, echo) -> exit status``."""

import json
import math
import sys
import time
import warnings

from .._engine._coverage import CoverageWarning, coverage_problem, percent
from .._io._fits import fits_stem, is_fits_name
from ._cluster import check_cluster_args, cluster_client
from ._export import cmd_export
from ._inputs import wcs_pixmap
from ._parser import PRECISIONS, UsageError
from ._warmup import cmd_warmup, compiling_notice


def _split_paths(args):
    paths = args.paths
    if len(paths) > 3:
        options = [p for p in paths if p.startswith("--")]
        raise UsageError(f"too many paths ({len(paths)}): expected DATA [PIXMAP] OUT"
                         + (f"; after '--' every argument is a path ({options[0]!r} too): put "
                            "options before it" if options else ""))
    if len(paths) == 3 and args.wcs_from:
        raise UsageError("give either PIXMAP or --wcs-from, not both")
    if len(paths) == 2 and not args.wcs_from:
        raise UsageError("missing PIXMAP: give DATA PIXMAP OUT, or DATA OUT with "
                         "--wcs-from EXPOSURE.fits")
    if len(paths) < 2:
        raise UsageError("missing OUT: expected DATA [PIXMAP] OUT")
    if args.stepsize != 1 and not args.wcs_from:
        raise UsageError("--stepsize applies to --wcs-from pixmaps only")
    out = paths[-1]
    if is_fits_name(out):
        # Never a zarr directory under a FITS name: the output is zarr, FITS comes from it.
        stem, fits_file = fits_stem(out)
        raise UsageError(f"OUT {out!r} is a FITS name, but blot writes a zarr store: blot into "
                         f"{stem + '.zarr'!r}, then 'tileblot export {stem}.zarr {fits_file}'")
    return paths[0], (paths[1] if len(paths) == 3 else None), out


def _check_output(store, out, args):
    """Whether to resume; refuses an output in the way before any input is read.

    ``store`` is what the store layer opens (a path, or an object store's zarr store);
    ``out`` is how the user named it.
    """
    from .._io._locations import check_apart, in_memory
    from .._io._refusals import check_location

    if in_memory(out):
        # The command line always runs worker processes: each would write its own copy.
        raise UsageError(f"OUT {out!r} is in memory, which the worker processes cannot share: "
                         "write to a path or an object store")
    check_apart(out, {"WCS file": args.wcs_from})
    exists = check_location(store, overwrite=args.overwrite, resume=args.resume,
                            break_lock=args.break_lock)
    return args.resume and exists


def _cmd_blot(args, echo):
    from .._api._blot_to_zarr import check_store, output_record, write_plans
    from .._api._description import wcs_entry
    from .._api._plan import plan_blot
    from .._io._store import describe, recorded_tile_size, store_exists
    from .._io._urls import check_options_apply, output_store

    check_cluster_args(args)
    data, pixmap, out = _split_paths(args)
    storage = check_options_apply(dict(args.storage_options), data, pixmap, out, args.wcs_from)
    store = output_store(out, storage_options=storage, what="OUT")
    # Everything that can be checked without workers is checked before a cluster starts: the
    # plan (made once, here) validates and identifies the inputs; a resume compares it with
    # the store's record.
    resume = _check_output(store, out, args)
    chunks = args.chunks
    if resume and chunks in (None, "auto"):
        chunks = recorded_tile_size(store)  # resuming without --chunks: the store's tiling
    if pixmap is None:
        pixmap = wcs_pixmap(data, args.wcs_from, chunks, args.stepsize, storage_options=storage)
    plan = plan_blot(data, pixmap, interp=args.interp, fillval=args.fillval, iscale=args.iscale,
                     sinscl=args.sinscl, precision=args.precision, chunks=chunks, regular=True,
                     storage_options=storage)
    if args.verify and not resume:
        raise UsageError("--verify checks the tiles a job already wrote: use it with --resume")
    sky = wcs_entry(plan, pixmap)
    # write_plans's own checks of the store against the plan, before any cluster: an output
    # inside an input, and a resume's record (the WCS first: a resume with another
    # --wcs-from is named for its WCS, not for the pixmap made from it).
    check_store(plan, output_record(plan, sky), store, args.overwrite, resume,
                args.break_lock)
    if resume and not (args.verify or args.break_lock):
        info = describe(store)
        # Nothing to do: no cluster to start (it reported "0 of 0 tiles" at 0.00 Mpix/s).
        # Unless a job that wrote the last tile died holding the lock: the job below takes
        # it over and releases it, as "tileblot info" promises.
        if info["complete"] and info["lock"] is None:
            echo(f"{out} is complete already: nothing to do (--verify decodes every tile)")
            return 0
    if args.resume and not resume:
        echo(f"{out} does not exist yet: starting the job" if not store_exists(store) else
             f"{out} holds nothing of a job yet (one was stopped as it started): starting it")
    if not args.scheduler:  # the local cluster's workers share this process's cache
        compiling_notice(args.interp, args.precision, echo)
    from ._progress import progress_reporter  # imports distributed: after the checks

    report = progress_reporter(echo, show=args.progress)
    with cluster_client(args, echo) as client, warnings.catch_warnings():
        if args.scheduler:
            compiling_notice(args.interp, args.precision, echo, client)
        # The coverage warning becomes one plain line below, from the store.
        warnings.simplefilter("ignore", CoverageWarning)
        start = time.perf_counter()
        # args.resume, not resume: a store that another job made since the check above is
        # then resumed (or refused as in use), not refused as "already exists".
        write_plans([plan], [store], overwrite=args.overwrite, resume=args.resume,
                    verify=args.verify, break_lock=args.break_lock, client=client,
                    progress=report, compressors=args.codec, skies=[sky])
        seconds = time.perf_counter() - start
    info = describe(store)
    coverage = info.get("coverage") or {}
    problem = coverage and coverage_problem(out, coverage["onimage"], coverage["pixels"],
                                            plan.params.fillval)
    if problem:  # a warning, not a failure: the job did what was asked (exit 0)
        print(f"tileblot: warning: {problem}", file=sys.stderr, flush=True)
    written = report.tiles  # the tiles this run computed (a resume: those it found to do)
    before = info["tiles_done"] - written
    mpix = math.prod(info["shape"]) / 1e6
    echo(f"wrote {out}: {_shape(info['shape'])} pixels, {written} of {info['tiles']} tiles in "
         f"{seconds:.1f} s ({mpix * written / max(info['tiles'], 1) / seconds:.2f} Mpix/s)"
         + (f", {before} already done" if before else ""))
    return 0


def _shape(shape):
    return " x ".join(str(n) for n in shape)


def _cmd_info(args, echo):
    from .._io._record import json_safe
    from .._io._store import describe
    from .._io._urls import check_options_apply, exists, output_store

    storage = check_options_apply(dict(args.storage_options), args.store)
    store = output_store(args.store, storage_options=storage, what="OUT")
    if not exists(args.store, storage_options=storage, what="OUT"):
        raise UsageError(f"no such output store {args.store!r}")
    info = describe(store, verify=True) if args.verify else describe(store)
    # With --verify, a script can rely on the exit status.
    status = 1 if args.verify and not info["complete"] else 0
    if args.json:
        # Valid JSON: non-finite numbers (a NaN fillval) as zarr spells them, "NaN" and so on.
        echo(json.dumps(json_safe({**info, "store": args.store}), indent=2, default=str,
                        allow_nan=False))
        return status
    params = info.get("params", {})
    done, tiles = info["tiles_done"], info["tiles"]
    lines = [
        ("store", args.store),
        ("image", f"{_shape(info['shape'])} {info['dtype']}"),
        ("tiles", f"{_shape(info['chunks'])} ({tiles} tiles)"),
        ("complete", f"{done} / {tiles} tiles ({percent(done / max(tiles, 1))})"
                     + ("" if info["complete"] else ": finish with 'tileblot blot ... --resume'")),
        ("parameters", ", ".join(f"{k}={v}" for k, v in params.items())),
        ("precision", _precision(params.get("precision"))),
        ("data", _describe_input(info.get("data"))),
        ("pixmap", _describe_input(info.get("pixmap"))),
        ("on mosaic", _describe_coverage(info.get("coverage"))),
        ("wcs", _describe_wcs(info.get("wcs"))),
        ("unit", _describe_unit(info)),
        ("written by", f"tileblot {info.get('version', '?')}"),
    ]
    lines += _trust_lines(info)
    for key, value in lines:
        echo(f"{key + ':':<12}{value}")
    return status


def _trust_lines(info):
    """What the cross-check against the store's listing (and --verify) found."""
    from .._io._lock import lock_is_stale

    lines = []
    if info["tiles_missing_chunk"]:
        lines.append(("missing", f"{len(info['tiles_missing_chunk'])} recorded tiles have no "
                                 "image chunk: --resume recomputes them"))
    if "tiles_corrupt" in info:
        bad = info["tiles_corrupt"]
        lines.append(("verified", f"{len(bad)} corrupt tiles: 'tileblot blot ... --resume "
                                  "--verify' recomputes them" if bad else "every chunk decodes"))
    if info.get("lock"):
        owner = info["lock"]
        held = (f"job {owner.get('job')} (pid {owner.get('pid')} on {owner.get('host')}, "
                f"since {owner.get('started')})")
        if lock_is_stale(owner):
            lines.append(("lock", f"left by {held}, which is gone: the next job takes it over"))
        else:
            lines.append(("in use by", held))
    return lines


def _describe_coverage(coverage):
    """``42% of the exposure's pixels (840 of 2000)``, for the tiles done so far if partial."""
    if not coverage:
        return "unknown (written by a tileblot that did not count it)"
    if coverage["fraction"] is None:
        return "unknown until a tile is done"
    text = (f"{percent(coverage['fraction'])} of the exposure's pixels ({coverage['onimage']} "
            f"of {coverage['pixels']})")
    if coverage["partial"]:
        text += f", in the {coverage['tiles_counted']} tiles done so far"
    return text


def _precision(name):
    return f"{name}: {PRECISIONS[name]}" if name in PRECISIONS else "?"


def _describe_unit(info):
    from .._api._description import unit_kept

    unit = info.get("unit")
    if unit is None:
        return "none recorded (the mosaic gave none, or an older tileblot wrote the store)"
    return f"{unit}, the mosaic's" + ("" if unit_kept(info) else
                                       ", before iscale scaled the values")


def _describe_wcs(record):
    known = [name for name in ("exposure", "mosaic") if (record or {}).get(name)]
    if not known:
        return "none recorded ('tileblot export --wcs-from EXPOSURE.fits' can write one)"
    return " and ".join(known) + " recorded (FITS cards; 'tileblot export' writes them)"


def _describe_input(identity):
    """``shape dtype from LOCATION`` of a recorded input identity (see ``_io._identity``)."""
    if not identity:
        return "?"
    meta = identity.get("metadata") or {}
    text = f"{_shape(meta.get('shape', []))} {meta.get('dtype', '')}"
    location = identity.get("location")
    if location:
        extension = meta.get("extension")
        text += f" from {identity.get('kind')} {location}" + (
            f"[{extension}]" if extension not in (None, "None") else "")
    else:
        text += f" ({identity.get('kind')} in memory)"
    return text


def _cmd_demo(args, echo):
    from ._demo import check_demo_directory, run_demo

    check_cluster_args(args)
    check_demo_directory(args.directory, args.exposures)
    echo(f"tileblot demo: writing into {args.directory}")
    with cluster_client(args, echo) as client:
        from ._progress import progress_reporter  # imports distributed

        # As blot's: a live bar on a terminal, a line every 5% into a log.
        summary = run_demo(args.directory, client, size=args.size, n_exposures=args.exposures,
                           chunks=args.chunks, progress=progress_reporter(echo, show=args.progress),
                           echo=echo)
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
    echo(f"  {summary['quicklook']}   quicklook: the mosaic with the footprints, every blot, "
         "on sky axes")
    first = summary["outputs"][0]
    echo(f"next: tileblot info {first}")
    echo(f"      tileblot export {first} {first.with_suffix('.fits').name}   (FITS for ds9)")
    return 0


COMMANDS = {"blot": _cmd_blot, "demo": _cmd_demo, "export": cmd_export, "info": _cmd_info,
            "warmup": cmd_warmup}
