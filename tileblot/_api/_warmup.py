"""``tileblot.warmup``: compile (or load) the kernels before a job needs them.

numba compiles each kernel on its first call in a process, and keeps the
result in its disk cache (``NUMBA_CACHE_DIR``, else next to the sources, else
a user-wide directory). A fresh dask worker with an empty cache pays that
compile again; one call of :func:`warmup` where the cache is shared fills it
for every worker.
"""

import os
import time
from pathlib import Path

import numpy as np

from .._engine._quiet import warn
from .._engine._validation import check_real_dtype
from .._kernels._canonical import window_dtype
from .._kernels._loop import onimage_bbox
from .._kernels._registry import INTERPOLATORS, PRECISIONS, check_precision, resolve


def _names(what, value, everything, check):
    if value is None:
        return list(everything)
    many = not isinstance(value, (str, bytes)) and hasattr(value, "__iter__")  # a set too
    names = [check(v) for v in value] if many else [check(value)]
    if not names:
        raise ValueError(f"{what} names nothing to warm up: give one or more, or None for all")
    return list(dict.fromkeys(names))  # each once, in the order given


def _check_cache_dir():
    """Warn where the compiled kernels will not be kept as asked: numba falls back, silently,
    from a ``NUMBA_CACHE_DIR`` it cannot write to the next place it can, or to none."""
    from .._kernels import CACHE_DIR

    asked = os.environ.get("NUMBA_CACHE_DIR")
    if CACHE_DIR is None:
        warn("numba can write its cache nowhere (NUMBA_CACHE_DIR, beside tileblot's sources, "
             "the user's cache folder): every process compiles the kernels again", stacklevel=3)
    elif asked and not Path(CACHE_DIR).resolve().is_relative_to(Path(asked).resolve()):
        warn(f"NUMBA_CACHE_DIR {asked!r} cannot be written: numba keeps the kernels in "
             f"{str(CACHE_DIR)!r} instead, where other processes pointed at NUMBA_CACHE_DIR "
             "will not find them", stacklevel=3)


def _cache_counts(entry):
    stats = entry.stats
    return sum(stats.cache_hits.values()), sum(stats.cache_misses.values())


def is_cached(interp, precision):
    """Whether numba's disk cache holds compiled code of ``interp``'s ``precision`` entry point.

    Returns ``None`` when numba does not say (no disk cache can be written).
    """
    entry = resolve(interp).entry_point(precision)
    try:
        return Path(entry._cache._cache_file._index_path).exists()
    except AttributeError:  # pragma: no cover - numba without a disk cache for it
        return None


def warmup(interp=None, precision=None, dtype=np.float32, pixmap_dtype=np.float64):
    """Compile the kernels, or load them from numba's disk cache, ahead of a job.

    Parameters
    ----------
    interp : str or sequence of str, optional
        Interpolators to prepare (names or aliases); default all of them.
    precision : {"drizzle", "high"} or sequence of them, optional
        Default both.
    dtype : dtype, optional
        The dtype of the data to blot (default float32): it decides which
        compiled variant the "high" precision needs (float32 or float64).
    pixmap_dtype : dtype, optional
        The dtype of the pixmaps (default float64, as WCS pixmaps are).

    Returns
    -------
    list of dict
        One record per (interpolator, precision): ``interp``, ``precision``,
        ``action`` (``"compiled"``, ``"loaded"`` from the disk cache, or
        ``"ready"``: already in this process) and ``seconds``.

    Examples
    --------
    Fill a cache that every worker then reads, before starting them::

        NUMBA_CACHE_DIR=/shared/numba-cache python -c "import tileblot; tileblot.warmup()"
    """
    interps = list(dict.fromkeys(
        resolve(name).name for name in _names("interp", interp, INTERPOLATORS, lambda n: n)))
    precisions = _names("precision", precision, PRECISIONS, check_precision)
    check_real_dtype("dtype", dtype)
    pixmap_dtype = np.dtype(pixmap_dtype)
    if pixmap_dtype.kind != "f":
        raise TypeError(f"pixmap_dtype must be a float dtype, got {pixmap_dtype}")
    _check_cache_dir()
    pixmap = np.array([[[1.5, 1.5], [-1.0, 0.0]]], dtype=pixmap_dtype)
    out = np.empty((1, 2), dtype=np.float32)
    records = []
    for name in interps:
        interpolator = resolve(name)
        for prec in precisions:
            drizzle = prec == "drizzle"
            entry = interpolator.entry_point(prec)
            window = np.zeros((16, 16), dtype=window_dtype(dtype, drizzle))
            before = _cache_counts(entry)
            signatures = len(entry.signatures)
            start = time.perf_counter()
            onimage_bbox(pixmap, 16, 16, drizzle)
            interpolator.kernel(window, 0, 0, 16, 16, pixmap, out, 0.0, 1.0,
                                interpolator.state(), drizzle)
            seconds = time.perf_counter() - start
            hits, _ = _cache_counts(entry)
            if len(entry.signatures) == signatures:
                action = "ready"
            else:
                action = "loaded" if hits > before[0] else "compiled"
            records.append({"interp": name, "precision": prec, "action": action,
                            "seconds": seconds})
    return records
