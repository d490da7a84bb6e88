"""The output store's coverage record: how many of each tile's pixels fall on the mosaic.

``tiles_onimage`` is an int64 array with one 1x1 chunk per tile (``-1``: not
counted). A tile task writes its tile's count after its image chunk and
before its ``tiles_done`` record, so every done tile has its count, and a
resumed job, which does not recompute done tiles, still knows them. The
count itself is free: the scan that finds a tile's window counts its
on-image pixels (:mod:`tileblot._engine._coverage`).

Reading the counts back costs one small read per tile, so they are read only
when nothing cheaper knows them:

- a job that wrote every tile itself sums the counts its tasks return (no
  read); a resumed job reads the counts of the tiles done before it;
- at the end of every successful job the total is written into the array's
  attributes (``{"onimage": n, "pixels": N}``), and :func:`coverage` reads
  only that for a complete store; a store that is not complete (a job under
  way or interrupted) is read tile by tile: the coverage of its done tiles.
"""

import numpy as np

ONIMAGE = "tiles_onimage"
_ATTR = "tileblot"


def create_counts(group, grid):
    """Create the (empty) ``tiles_onimage`` array of an output group."""
    return group.create_array(ONIMAGE, shape=grid, chunks=(1, 1), dtype=np.int64, fill_value=-1)


def open_counts(group, grid):
    """The group's ``tiles_onimage`` array, created if missing (a store from before it existed)."""
    try:
        return group[ONIMAGE]
    except KeyError:
        return create_counts(group, grid)


def tile_pixels(shape, chunks):
    """``(nty, ntx)`` int64 grid: pixels in each tile of a regular tiling (edge tiles smaller)."""
    rows = [min(chunks[0], shape[0] - start) for start in range(0, shape[0], chunks[0])]
    cols = [min(chunks[1], shape[1] - start) for start in range(0, shape[1], chunks[1])]
    return np.outer(np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))


def _entry(onimage, pixels, tiles_counted, tiles):
    return {
        "onimage": int(onimage),
        "pixels": int(pixels),
        "fraction": float(onimage) / pixels if pixels else None,
        "tiles_counted": int(tiles_counted),
        "tiles": int(tiles),
        "partial": int(tiles_counted) != int(tiles),
    }


def counted(counts, done, shape, chunks):
    """The coverage of the ``done`` tiles, read tile by tile from ``counts``.

    See :func:`coverage`.
    """
    values = np.asarray(counts[...])
    known = done & (values >= 0)
    return _entry(values[known].sum(), tile_pixels(shape, chunks)[known].sum(), known.sum(),
                  done.size)


def record_total(counts, entry):
    """Keep a complete job's total in ``counts``' attributes (the end of a successful job)."""
    counts.attrs[_ATTR] = {"onimage": entry["onimage"], "pixels": entry["pixels"]}


def total(onimage, shape, chunks):
    """The coverage of a complete job whose tasks counted ``onimage`` pixels in all."""
    grid = tile_pixels(shape, chunks)
    return _entry(onimage, grid.sum(), grid.size, grid.size)


def coverage(group, done, shape, chunks):
    """What share of an output's pixels fall on the mosaic, as a dict (``None`` if unknown).

    Parameters
    ----------
    group : zarr.Group
        The output group.
    done : (nty, ntx) bool array
        Which tiles are done (from one listing of the store).
    shape, chunks : (int, int)
        The image's shape and tile size.

    Returns
    -------
    dict or None
        ``onimage`` (pixels on the mosaic), ``pixels`` (of the tiles
        counted), ``fraction`` (``None`` when no tile is counted),
        ``tiles_counted`` and ``tiles``, and ``partial`` (true when the
        fraction covers only the tiles done so far). ``None`` for a store
        written before tileblot recorded coverage.
    """
    try:
        counts = group[ONIMAGE]
    except KeyError:
        return None
    kept = counts.attrs.get(_ATTR)
    if done.all() and isinstance(kept, dict):
        return _entry(kept["onimage"], kept["pixels"], done.size, done.size)
    return counted(counts, done, shape, chunks)


def finish(root, record, onimage=None):
    """The coverage of a job found complete, kept in the store; returns it.

    ``root`` is the output group's ``StorePath``. ``onimage``: the sum of the
    counts its tasks returned, when they wrote every tile (no read); ``None``
    (a resumed job): read each tile's count.
    """
    import zarr

    group = zarr.open_group(store=root.store, path=root.path, mode="r+")
    shape, chunks = record["shape"], record["chunks"]
    counts = open_counts(group, tuple(-(-n // c) for n, c in zip(shape, chunks, strict=True)))
    if onimage is None:
        entry = counted(counts, np.ones(counts.shape, dtype=bool), shape, chunks)
    else:
        entry = total(onimage, shape, chunks)
    if not entry["partial"]:
        record_total(counts, entry)
    return entry
