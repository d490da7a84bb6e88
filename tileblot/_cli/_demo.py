"""The ``tileblot demo`` job: a synthetic scene blotted onto its exposures, and a quicklook.

The scene is made by ``_scene`` and drawn by ``_quicklook`` (both public as
``tileblot.demo``); this module writes the mosaic, runs the blot on a
cluster and reports what it did.
"""

import math
import time
from pathlib import Path

import numpy as np

from . import _scene_checks as checks
from ._quicklook import check_replaceable, quicklook
from ._scene import MOSAIC_SCALE, make_scene, tan_wcs, wcs_to_attrs

__all__ = ["DEMO_ATTR", "STEPSIZE", "check_demo_directory", "make_scene", "run_demo", "tan_wcs",
           "wcs_to_attrs", "write_mosaic"]

#: Marks a zarr array or output store as the demo's own, so a re-run may overwrite it (and
#: nothing else).
DEMO_ATTR = "tileblot_demo"


def _peak_rss_bytes():
    """Peak resident memory of this process, bytes (run on each worker by ``client.run``)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return int(peak if sys.platform == "darwin" else peak * 1024)


def write_mosaic(path, scene, *, chunks=512):
    """Write a scene's mosaic as a zarr array with its WCS in ``attrs["wcs"]``.

    That is the layout ``tileblot blot --wcs-from`` reads a zarr mosaic's WCS
    from (FITS header cards). The array is marked as the demo's, so writing it
    again replaces it; any other existing path is refused.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write the zarr array.
    scene : Scene
        From :func:`make_scene`.
    chunks : int, optional
        Side of the array's square zarr chunks.

    Returns
    -------
    zarr.Array
    """
    import zarr

    checks.has("scene", scene, "mosaic", "wcs", "noise")
    chunks = checks.count("chunks", chunks, minimum=1, maximum=checks.MAX_SIZE)
    path = Path(path)
    if path.exists() and not _is_demo_mosaic(path):
        raise ValueError(f"{str(path)!r} exists and is not a tileblot demo mosaic; "
                         "refusing to overwrite it")
    array = zarr.create_array(
        store=str(path), shape=scene.mosaic.shape, chunks=(chunks, chunks), dtype=np.float32,
        overwrite=True,
        attributes={"wcs": wcs_to_attrs(scene.wcs), DEMO_ATTR: {"noise": scene.noise}},
    )
    array[...] = scene.mosaic
    return array


def check_demo_directory(directory, n_exposures):
    """``ValueError`` unless the demo may write into ``directory``: before any cluster starts.

    It must be a folder (or not exist yet), not a zarr store (the demo writes a folder of
    them), and hold nothing under the demo's names but the demo's own earlier outputs.
    """
    from .._io._refusals import check_output

    directory = Path(directory).expanduser()  # as blot_to_zarr reads a path
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"DIR {str(directory)!r} is a file, not a folder")
    if any((directory / name).exists() for name in ("zarr.json", ".zarray", ".zgroup")):
        raise ValueError(f"DIR {str(directory)!r} is a zarr store; the demo writes a folder of "
                         "them: give another folder")
    mosaic = directory / "mosaic.zarr"
    if mosaic.exists() and not _is_demo_mosaic(mosaic):
        raise ValueError(f"{str(mosaic)!r} exists and is not a tileblot demo mosaic; "
                         "refusing to overwrite it")
    for k in range(n_exposures):
        output = directory / f"exposure_{k + 1}.zarr"
        # As blot_to_zarr(overwrite=True) will: only a tileblot output is replaced, and of
        # those only the demo's own (a user's blot could have cost a week of a cluster).
        check_output(str(output), None, overwrite=True)
        _check_demo_output(output, mosaic)
    check_replaceable(directory / "quicklook.png")


def _check_demo_output(output, mosaic):
    """``ValueError`` unless the tileblot output ``output`` (or nothing) is the demo's own.

    The demo marks each output it finished (:data:`DEMO_ATTR`; the mark moves with a
    folder moved or copied). One it did not finish (killed) records, as every output
    does, the mosaic it blotted: this folder's ``mosaic.zarr``. A store that holds only
    what a job stopped as it started leaves holds nothing of anyone's.
    """
    from .._io._record import read_record
    from .._io._store import open_root, started_only, tileblot_group

    if not output.exists():
        return
    root = open_root(str(output), mode="r")
    group = tileblot_group(root)
    if group is None:
        if started_only(root):
            return
        why = "its record cannot be read"
    elif DEMO_ATTR in group.attrs:
        return
    else:
        try:
            data = read_record(group, str(output)).get("data")
        except ValueError:  # damaged
            data = None
        if not isinstance(data, dict):
            why = "its record cannot be read"
        elif data.get("location") == mosaic.resolve().as_uri():
            return
        else:
            why = "it blotted another mosaic"
    raise ValueError(f"{str(output)!r} is not an output of the demo ({why}); refusing to "
                     "overwrite it: delete it, or give the demo another folder")


def _is_demo_mosaic(path):
    import zarr

    try:
        return DEMO_ATTR in zarr.open_array(str(path), mode="r").attrs
    except Exception:  # zarr raises several types for "not an array here"
        return False


#: The demo's WCS pixmaps are evaluated on a grid this sparse and interpolated in between, as
#: the JWST pipeline does: exact to far below a pixel for these smooth WCSs, and several times
#: faster than evaluating the WCSs at every pixel, which would dominate the demo's time.
STEPSIZE = 8


def run_demo(directory, client, *, size=4096, n_exposures=3, chunks=512, progress=True,
             echo=print):
    """The ``tileblot demo`` job: make a scene, blot it onto every exposure, draw a quicklook.

    Every output records the WCSs of its exposure and of the mosaic (see
    :func:`tileblot.open_output`), so ``tileblot export`` makes FITS files
    that ds9 places on the sky.

    Parameters
    ----------
    directory : str or os.PathLike
        Where to write (created if needed); the demo's own earlier outputs there are replaced.
    client : distributed.Client
        The cluster to blot on.
    size : int, optional
        Side of the mosaic, pixels.
    n_exposures : int, optional
        Number of exposures.
    chunks : int, optional
        Tile side of the mosaic's zarr chunks and of the outputs.
    progress : bool or callable, optional
        Show distributed's progress bar; or the command line's report
        (``report(futures, tiles)``, see :mod:`tileblot._cli._progress`).
    echo : callable, optional
        Receives one line of narration at a time.

    Returns
    -------
    dict
        What was done: ``tiles``, ``mpix``, ``seconds``, ``worker_peak``,
        ``local_peak`` (bytes), ``mosaic``, ``outputs``, ``quicklook`` (paths)
        and ``rerun`` (whether earlier outputs were replaced).
    """
    import zarr

    from .._api._blot_to_zarr import blot_to_zarr
    from .._pixmaps._wcs import pixmap_from_wcs

    directory = Path(directory).expanduser()  # as blot_to_zarr reads a path
    mosaic_path = directory / "mosaic.zarr"
    quicklook_path = directory / "quicklook.png"
    check_demo_directory(directory, n_exposures)  # before any work
    rerun = mosaic_path.exists()
    directory.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    scene = make_scene(size, n_exposures)
    write_mosaic(mosaic_path, scene, chunks=chunks)
    echo(f"mosaic: {size} x {size} pixels, TAN WCS at {MOSAIC_SCALE}\"/pixel: stars, galaxies "
         f"and noise -> {mosaic_path} ({time.perf_counter() - start:.1f} s)")

    pixmaps = [pixmap_from_wcs(e.wcs, scene.wcs, e.shape, chunks=chunks, stepsize=STEPSIZE)
               for e in scene.exposures]
    outputs = [directory / f"exposure_{k + 1}.zarr" for k in range(n_exposures)]
    tiles = sum(math.prod(len(c) for c in p.chunks[:2]) for p in pixmaps)
    pixels = sum(math.prod(e.shape) for e in scene.exposures)
    echo(f"blotting onto {n_exposures} exposures ({tiles} tiles of {chunks} x {chunks}, "
         f"poly5, pixmaps from the WCSs with stepsize={STEPSIZE}) ...")
    start = time.perf_counter()
    # One job for all exposures: the scheduler interleaves their tiles across workers.
    images = blot_to_zarr(str(mosaic_path), pixmaps, [str(p) for p in outputs], interp="poly5",
                          fillval=np.nan, chunks=chunks, overwrite=True, progress=progress,
                          client=client)
    seconds = time.perf_counter() - start
    for path in outputs:  # the demo's own, which a re-run may replace (moved or not)
        zarr.open_group(str(path), mode="r+").attrs[DEMO_ATTR] = True
    worker_peak = client.run(_peak_rss_bytes)

    quicklook(quicklook_path, scene, images)
    return {
        "tiles": tiles,
        "mpix": pixels / 1e6,
        "seconds": seconds,
        "worker_peak": max(worker_peak.values()),
        "workers": len(worker_peak),
        "local_peak": _peak_rss_bytes(),
        "mosaic": mosaic_path,
        "outputs": outputs,
        "quicklook": quicklook_path,
        "rerun": rerun,
    }
