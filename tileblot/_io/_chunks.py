"""Whole-chunk writes, encoded and stored in the calling thread.

``array[selection] = value`` hands every write to zarr's single event-loop
thread, which finds the chunks, encodes them (blosc and zstd in a thread pool)
and stores them while the calling thread waits. A tile task writes exactly one
whole chunk, so it needs none of that, and the hand-offs are what it costs:
in the job of ``benchmarks/bench_pipeline.py --tiles 512`` (2 threads), the
tasks spent 15-25 ms per 512 x 512 tile waiting on their two writes, with
both dask threads queued behind zarr's one loop, for ~1 ms of encoding; the
8-byte record of ``tiles_done`` alone cost ~2 ms. Written here: ~1.4 ms and
~0.3 ms (``benchmarks/bench_store.py`` compares the two).

:class:`ChunkWriter` writes chunk ``coords`` of one array:

- it encodes with the array's own codecs, in their order, with each codec's
  synchronous encoder (``_encode_sync``, the function zarr's pipeline itself
  runs in its thread pool), in the calling thread: the bytes are the ones
  ``array[...] = value`` would store (tested), and tasks on several threads
  encode at once (blosc and zstd release the GIL);
- it stores them under the chunk's key with the store's synchronous
  ``set_sync`` where it has one (local directories, memory), else with one
  ``store.set`` through zarr's loop (object stores: a network round trip
  either way);
- an edge chunk is padded with the array's fill value, as zarr stores it;
- a chunk is always written, even one that equals the fill value (as
  ``write_empty_chunks=True``): every written tile has its chunk.

Where this cannot be done exactly (an array that is not zarr v3 with a
regular grid and C order, or a codec without a synchronous encoder, such as sharding), it
writes with ``array[...] = value``, whose bytes are the same by definition.
"""

import numpy as np
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync


def _sync_codecs(array):
    """The array's codecs if each can encode synchronously, else None."""
    metadata = array.metadata
    # Older zarr 3 releases lack some of these (no Array.config, no _encode_sync):
    # then zarr writes, as it always did.
    config = getattr(array, "config", None)
    if (getattr(metadata, "zarr_format", None) != 3 or not hasattr(metadata, "get_chunk_spec")
            or getattr(config, "order", None) != "C"):
        return None
    codecs = tuple(metadata.codecs)
    if not all(callable(getattr(codec, "_encode_sync", None)) for codec in codecs):
        return None
    try:
        grid = tuple(int(c) for c in metadata.chunk_grid.chunk_shape)
    except AttributeError:  # not a regular grid
        return None
    return codecs if grid == tuple(array.chunks) else None


class ChunkWriter:
    """Writes whole chunks of one zarr array (see the module docstring).

    Parameters
    ----------
    array : zarr.Array
        The array to write; picklable with it (what it derives from the
        array is made again, once, in each process that writes).
    """

    def __init__(self, array):
        self.array = array
        self._ready = None

    def __getstate__(self):
        return {"array": self.array}

    def __setstate__(self, state):
        self.array = state["array"]
        self._ready = None

    def _prepare(self):
        # Immutable once made: two threads making it at once make equal copies.
        if self._ready is None:
            array = self.array
            store_path = array.store_path
            self._ready = (
                _sync_codecs(array),
                store_path.store,
                f"{store_path.path}/" if store_path.path else "",
                getattr(store_path.store, "set_sync", None),
            )
        return self._ready

    def write(self, coords, block):
        """Store ``block`` as chunk ``coords`` (a tuple of chunk indices).

        ``block`` is the chunk's part of the array: the full chunk shape, or
        less at the array's far edges.
        """
        codecs, store, prefix, set_sync = self._prepare()
        array = self.array
        chunks = array.chunks
        if codecs is None:
            array[tuple(slice(c * n, c * n + s) for c, n, s in
                        zip(coords, chunks, np.shape(block), strict=True))] = block
            return
        metadata = array.metadata
        block = np.asarray(block, dtype=array.dtype)
        inside = tuple(min(n, size - c * n) for c, n, size in
                       zip(coords, chunks, array.shape, strict=True))
        if block.shape != inside:  # what array[...] = block would refuse too
            raise ValueError(f"chunk {coords} of {array.shape} in chunks of {chunks} is "
                             f"{inside}, got a block of {block.shape}")
        if block.shape != tuple(chunks):
            full = np.full(chunks, metadata.fill_value, dtype=array.dtype)
            full[tuple(slice(0, s) for s in block.shape)] = block
            block = full
        prototype = default_buffer_prototype()
        spec = metadata.get_chunk_spec(coords, array.config, prototype)
        data = prototype.nd_buffer.from_ndarray_like(np.ascontiguousarray(block))
        for codec in codecs:
            data = codec._encode_sync(data, spec)
            spec = codec.resolve_metadata(spec)
        key = prefix + metadata.encode_chunk_key(coords)
        if set_sync is not None:
            set_sync(key, data)
        else:
            sync(store.set(key, data))
