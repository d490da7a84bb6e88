"""The output store's coverage record: how many of each tile's pixels fall on the mosaic.

The count rides in the tile's completion record: ``tiles_done`` is int64 and
a done tile's element is ``1 + n``, ``n`` its pixels on the mosaic (``0``, the
fill value, is no record). The one write that records a tile as done thus
also keeps its count, and a resumed job, which does not recompute done tiles,
still knows them. The count itself is free: the scan that finds a tile's
window counts its on-image pixels (:mod:`tileblot._engine._coverage`).

Reading the counts back costs one small read per tile, so they are read only
when nothing cheaper knows them:

- a job that wrote every tile itself sums the counts its tasks return (no
  read); a resumed job reads the records of the tiles done before it;
- at the end of every successful job the total is written into
  ``tiles_done``'s attributes (``{"onimage": n, "pixels": N}``), and
  :func:`coverage` reads only that for a complete store; a store that is not
  complete (a job under way or interrupted) is read tile by tile: the
  coverage of its done tiles.

Stores written before the count existed (``tiles_done`` of uint8, records of
``1``) have no coverage: ``None``.
"""

import numpy as np

from ._errors import undecodable
from ._layout import ATTR, DONE

#: dtype of ``tiles_done`` records that carry a count.
RECORD_DTYPE = np.dtype(np.int64)


def record_value(onimage, dtype=RECORD_DTYPE):
    """The ``tiles_done`` element of a done tile with ``onimage`` pixels on the mosaic.

    In a store from before the count (uint8 records, resumed by this version)
    the record stays ``1``: that store's coverage is unknown either way.
    """
    return 1 + int(onimage) if np.dtype(dtype) == RECORD_DTYPE else 1


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


def _read_records(records, strict):
    """Every record's value; one that does not decode raises if ``strict``, else reads 0."""
    try:
        return np.asarray(records[...])
    except Exception as exc:
        if not undecodable(exc):
            raise
        problem = f"{type(exc).__name__}: {exc}"
    if strict:  # raised here, not in the handler: no zarr error as its context
        raise ValueError(
            f"the completion records in {records.store_path} do not decode ({problem}): "
            "the store was damaged; a resume with verify=True (tileblot blot ... --resume "
            "--verify) finds and redoes the tiles whose records are damaged"
        )
    # Describing a damaged store: read the others one by one, so that it can be shown
    # (and verified) with those tiles' counts unknown.
    values = np.zeros(records.shape, dtype=records.dtype)
    for index in np.ndindex(records.shape):
        try:
            values[index] = records[index]
        except Exception as exc:
            if not undecodable(exc):
                raise
    return values


def counted(records, done, shape, chunks, *, strict=True):
    """The coverage of the ``done`` tiles, read tile by tile from ``records`` (``tiles_done``).

    See :func:`coverage`. A record that does not decode is a ``ValueError`` if
    ``strict`` (the end of a job), else left uncounted (a description).
    """
    values = _read_records(records, strict)
    known = done & (values >= 1)
    return _entry((values[known] - 1).sum(), tile_pixels(shape, chunks)[known].sum(),
                  known.sum(), done.size)


def record_total(records, entry):
    """Keep a complete job's total in ``records``' attributes (the end of a successful job)."""
    records.attrs[ATTR] = {"onimage": entry["onimage"], "pixels": entry["pixels"]}


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
    records = group[DONE]
    if records.dtype != RECORD_DTYPE:  # a store from before the count
        return None
    kept = records.attrs.get(ATTR)
    if done.all() and _is_total(kept):
        return _entry(kept["onimage"], kept["pixels"], done.size, done.size)
    # No total kept yet, or one damaged by hand: the records say it again.
    return counted(records, done, shape, chunks, strict=False)


def _is_total(kept):
    return isinstance(kept, dict) and all(
        isinstance(kept.get(key), int) and not isinstance(kept.get(key), bool)
        and kept[key] >= 0 for key in ("onimage", "pixels"))


def finish(root, record, onimage=None):
    """The coverage of a job found complete, kept in the store; returns it.

    ``root`` is the output group's ``StorePath``. ``onimage``: the sum of the
    counts its tasks returned, when they wrote every tile (no read); ``None``
    (a resumed job): read each tile's count.
    """
    import zarr

    group = zarr.open_group(store=root.store, path=root.path, mode="r+")
    shape, chunks = record["shape"], record["chunks"]
    records = group[DONE]
    if records.dtype != RECORD_DTYPE:  # resumed from a store from before the count
        return None
    if onimage is None:
        entry = counted(records, np.ones(records.shape, dtype=bool), shape, chunks)
    else:
        entry = total(onimage, shape, chunks)
    if not entry["partial"]:
        record_total(records, entry)
    return entry
