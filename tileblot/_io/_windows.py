"""Windows read from a chunked store, each chunk decoded about once per process.

A tile's window spans several of the mosaic's chunks, and each chunk is
shared by the windows of the neighbouring tiles (and of every exposure
dithered over the same region). Sliced straight from zarr, each window
decodes every chunk it touches, so each chunk is decoded once per tile that
reads it: about 2.8 times per chunk for a rotated exposure at 1024 x 1024
tiles (measured: ``benchmarks/bench_pipeline.py``).

:class:`CachedChunks` wraps a chunked source (a ``zarr.Array``) and reads a
window by assembling it from whole decoded chunks held in a per-process,
bounded, least-recently-used :class:`ChunkCache`:

- keys are ``(source token, chunk index)``; the token is the source's
  identity including its change stamp (see :mod:`tileblot._io._identity`),
  and what tells a rewritten file from the one the stamp saw (its files'
  inode numbers and change times, its objects' ETags:
  :func:`~tileblot._io._identity.input_identity`), so chunks of a rewritten
  or replaced mosaic are never served;
- the cache lives in the process: each dask worker has its own (no data
  travels between workers) and every thread of the process shares it; a
  chunk that one thread is decoding is waited for by the others, not
  decoded twice;
- its size is :func:`tileblot._engine._budget.cache_budget` (an eighth of
  the worker's memory limit, at most 1 GiB, or ``tileblot.chunk-cache``);
  a chunk bigger than the whole cache is decoded and not kept.

A wrapped source pickles as the zarr array and its token, never with the
cache's contents.
"""

import threading
from collections import OrderedDict

import numpy as np

from .._engine._budget import cache_budget
from .._engine._planning import Window
from ._errors import damaged, undecodable
from ._locations import input_location
from ._sources import check_found


class ChunkCache:
    """A thread-safe LRU of decoded chunks, bounded in bytes.

    Parameters
    ----------
    max_bytes : int
        Most bytes of chunks held at once.
    """

    def __init__(self, max_bytes):
        self.max_bytes = int(max_bytes)
        self._items = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._pending = {}
        self.hits = self.misses = 0

    @property
    def nbytes(self):
        """Bytes held now."""
        return self._bytes

    def resize(self, max_bytes):
        """Hold at most ``max_bytes`` from now on, dropping the least recently used chunks."""
        with self._lock:
            self.max_bytes = int(max_bytes)
            self._evict()

    def __len__(self):
        return len(self._items)

    def get(self, key, decode):
        """The chunk under ``key``, from the cache or from ``decode()`` (called once).

        Concurrent callers asking for a key being decoded wait for that
        decode instead of starting their own.
        """
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    self.hits += 1
                    return self._items[key]
                event = self._pending.get(key)
                if event is None:
                    event = self._pending[key] = threading.Event()
                    self.misses += 1
                    break
            event.wait()
            # Decoded by another thread (then a hit above), or it failed or was
            # too big to keep (then this thread decodes it itself).
            with self._lock:
                if key not in self._items and key not in self._pending:
                    event = self._pending[key] = threading.Event()
                    self.misses += 1
                    break
        try:
            value = decode()
            with self._lock:
                self._put(key, value)
            return value
        finally:
            with self._lock:
                del self._pending[key]
            event.set()

    def _put(self, key, value):
        size = value.nbytes
        if size > self.max_bytes:
            return
        self._items[key] = value
        self._bytes += size
        self._evict()

    def _evict(self):
        while self._bytes > self.max_bytes:
            _, old = self._items.popitem(last=False)
            self._bytes -= old.nbytes

    def clear(self):
        """Drop every chunk."""
        with self._lock:
            self._items.clear()
            self._bytes = 0


_PROCESS_CACHE = None
_PROCESS_LOCK = threading.Lock()


def process_cache():
    """This process's :class:`ChunkCache`, holding at most :func:`cache_budget` bytes.

    The budget is read again on every use, so a setting made for one job (``with
    dask.config.set(...)``) applies to it even after an earlier job made the cache.
    """
    global _PROCESS_CACHE
    budget = cache_budget()
    if _PROCESS_CACHE is None:
        with _PROCESS_LOCK:
            if _PROCESS_CACHE is None:
                _PROCESS_CACHE = ChunkCache(budget)
    if _PROCESS_CACHE.max_bytes != budget:
        _PROCESS_CACHE.resize(budget)
    return _PROCESS_CACHE


def _chunk_ranges(lo, hi, size):
    return range(lo // size, (hi - 1) // size + 1)


class CachedChunks:
    """A chunked 2-D source whose windows are read through the process's chunk cache.

    Parameters
    ----------
    array : zarr.Array
        The source; anything with ``shape``, ``dtype``, 2-D ``chunks`` and
        numpy slicing works.
    token : str
        The source's identity (change stamp included): the cache's key.
    """

    def __init__(self, array, token):
        self.array = array
        self.token = str(token)
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        self.chunks = tuple(int(c) for c in array.chunks[:2])

    @property
    def ndim(self):
        return len(self.shape)

    def __reduce__(self):
        return type(self), (self.array, self.token)

    def __dask_tokenize__(self):
        return ("cached-chunks", self.token)

    def __repr__(self):
        return f"CachedChunks({self.array!r})"

    def _chunk(self, cy, cx):
        ch, cw = self.chunks

        def decode():
            check_found(self.array, self.token)
            try:
                return np.asarray(self.array[cy * ch : (cy + 1) * ch, cx * cw : (cx + 1) * cw])
            except Exception as exc:
                if not undecodable(exc):  # the store or the machine, not the chunk's bytes
                    raise
                problem = exc  # a codec's: named below, outside
            raise damaged(f"the zarr array {input_location(self.array)}", f"chunk ({cy}, {cx})",
                          problem)

        return process_cache().get((self.token, cy, cx), decode)

    def chunk_indices(self, window):
        """``(cy, cx)`` of every chunk ``window`` overlaps, row by row."""
        ch, cw = self.chunks
        return [(cy, cx) for cy in _chunk_ranges(window.y0, window.y1, ch)
                for cx in _chunk_ranges(window.x0, window.x1, cw)]

    def read_window(self, window, dtype=None):
        """``(array, y0, x0)``: data covering ``window``, as the kernels read it.

        A window inside one chunk is that chunk itself (no copy, when its
        dtype is ``dtype``); otherwise the window is assembled from its
        chunks into a new array of ``dtype`` (the source's by default).
        """
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        ch, cw = self.chunks
        indices = self.chunk_indices(window)
        if len(indices) == 1 and dtype == self.dtype:
            cy, cx = indices[0]
            return self._chunk(cy, cx), cy * ch, cx * cw
        out = np.empty(window.shape, dtype=dtype)
        for cy, cx in indices:
            chunk = self._chunk(cy, cx)
            y0, x0 = max(cy * ch, window.y0), max(cx * cw, window.x0)
            y1 = min(cy * ch + chunk.shape[0], window.y1)
            x1 = min(cx * cw + chunk.shape[1], window.x1)
            out[y0 - window.y0 : y1 - window.y0, x0 - window.x0 : x1 - window.x0] = chunk[
                y0 - cy * ch : y1 - cy * ch, x0 - cx * cw : x1 - cx * cw
            ]
        return out, window.y0, window.x0

    def __getitem__(self, key):
        # Plain slicing (2-D, steps of 1), for callers that do not use read_window.
        if not (isinstance(key, tuple) and len(key) == 2
                and all(isinstance(k, slice) and k.step in (None, 1) for k in key)):
            return self.array[key]
        (y0, y1, _), (x0, x1, _) = (k.indices(n) for k, n in zip(key, self.shape, strict=True))
        if y1 <= y0 or x1 <= x0:
            return np.empty((max(y1 - y0, 0), max(x1 - x0, 0)), dtype=self.dtype)
        array, wy, wx = self.read_window(Window(y0, y1, x0, x1))
        return array[y0 - wy : y1 - wy, x0 - wx : x1 - wx]


def cached(source, token):
    """``source`` wrapped in :class:`CachedChunks` if it is a chunked store, else itself."""
    import zarr

    if isinstance(source, zarr.Array) and source.ndim == 2:
        return CachedChunks(source, token)
    return source
