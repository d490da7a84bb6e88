"""Placement: a lazy blotted image asks for one band of tile rows per worker.

The optimiser is tested here on its own and with in-process (threaded)
clusters; tests/api/test_cluster.py checks what a process cluster's scheduler
receives, and that a band whose worker has gone still runs.
"""

import dask
import dask.array as da
import numpy as np
import pytest
from dask.array import Array
from dask.core import get_dependencies
from distributed import Client, LocalCluster

import tileblot
from tests.helpers import affine_pixmap
from tileblot._engine._clients import current_client, scheduler_workers, worker_addresses
from tileblot._engine._placement import BandPlacement, place_bands

WORKERS = ["tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "tcp://127.0.0.1:3"]


@pytest.fixture
def scene(rng):
    data = rng.normal(size=(90, 110)).astype(np.float32)
    pixmap = affine_pixmap((80, 72), scale=1.05, angle=0.3, shift=(20.0, -8.0))
    return data, pixmap


def _inputs(kind, data, pixmap):
    """(data, pixmap) as blot gets them: in memory, a lazy (fusable) pixmap, dask data."""
    if kind == "numpy":
        return data, pixmap
    if kind == "lazy pixmap":
        return data, da.from_array(pixmap, chunks=(16, 16, 2)) * 1.0
    return da.from_array(data, chunks=32), pixmap


def _annotations(graph):
    """``{key: (workers, allow_other_workers)}`` as dask hands them to the scheduler."""
    found = {}
    for layer in graph.layers.values():
        for key in layer:
            notes = layer.annotations or {}
            workers = notes.get("workers")
            if workers is not None:
                found[key] = (workers(key) if callable(workers) else workers,
                              notes.get("allow_other_workers"))
    return found


@pytest.mark.parametrize("kind", ["numpy", "lazy pixmap", "dask data"])
def test_every_tile_gets_its_bands_worker_and_its_own_inputs_go_with_it(scene, kind):
    data, pixmap = _inputs(kind, *scene)
    lazy = tileblot.blot(data, pixmap, interp="linear", chunks=16)
    nrows, ncols = lazy.numblocks
    placement = BandPlacement(lazy.name, nrows, WORKERS)
    graph = placement(lazy.__dask_graph__(), lazy.__dask_keys__())
    notes = _annotations(graph)
    tiles = {(lazy.name, r, c) for r in range(nrows) for c in range(ncols)}
    assert tiles <= set(notes)
    assert all(loose is True for _, loose in notes.values())
    # Contiguous bands of whole rows, in order, one per worker, sizes within one row.
    row_worker = [notes[(lazy.name, r, 0)][0] for r in range(nrows)]
    assert all(notes[key][0] == row_worker[key[1]] for key in tiles)
    assert [w[0] for w in dict.fromkeys(map(tuple, row_worker))] == WORKERS
    sizes = [row_worker.count([w]) for w in WORKERS]
    assert max(sizes) - min(sizes) <= 1
    # Every other placed task is an input that one band alone needs; what several
    # bands share (the source, the whole in-memory pixmap) is left to dask.
    dsk = dict(graph)
    needed_by = {key: {notes[tile][0][0] for tile in tiles if key in _inputs_of(dsk, tile)}
                 for key in dsk if key not in tiles}
    placed = {key for key in notes if key not in tiles}
    assert placed == {key for key, ws in needed_by.items() if len(ws) == 1}
    assert all(notes[key][0] == sorted(needed_by[key]) for key in placed)
    assert not any(isinstance(key, str) and key.startswith("blot-source") for key in placed)
    if kind == "numpy":  # each tile's slice of the pixmap, placed with it
        assert len(placed) == len(tiles)
    elif kind == "lazy pixmap":  # and the tasks that compute it (two per tile here)
        assert len(placed) == 2 * len(tiles)


def _inputs_of(dsk, key):
    """Every key that ``key`` needs, directly or not."""
    seen, stack = set(), list(get_dependencies(dsk, key))
    while stack:
        dep = stack.pop()
        if dep not in seen:
            seen.add(dep)
            stack.extend(get_dependencies(dsk, dep))
    return seen


@pytest.mark.parametrize("kind", ["numpy", "lazy pixmap", "dask data"])
@pytest.mark.parametrize("interp", ["nearest", "poly5", "lan3"])
def test_the_placed_graph_computes_the_same_bits(scene, kind, interp):
    data, pixmap = _inputs(kind, *scene)
    lazy = tileblot.blot(data, pixmap, interp=interp, chunks=16)
    expected = tileblot.blot_image(scene[0], scene[1], interp=interp, precision="high")
    lazy.__dask_optimize__ = BandPlacement(lazy.name, lazy.numblocks[0], WORKERS)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), expected)


def test_the_optimiser_follows_dasks_configuration(scene):
    # With low-level fusion off, dask's optimisation returns a graph of layers: the same
    # annotations come out, and the same bits.
    data, pixmap = _inputs("lazy pixmap", *scene)
    lazy = tileblot.blot(data, pixmap, interp="poly3", chunks=16)
    placement = BandPlacement(lazy.name, lazy.numblocks[0], WORKERS[:2])
    with dask.config.set({"optimization.fuse.active": False}):
        notes = _annotations(placement(lazy.__dask_graph__(), lazy.__dask_keys__()))
        lazy.__dask_optimize__ = placement
        result = lazy.compute(scheduler="sync")
    assert sum(key[0] == lazy.name for key in notes) == lazy.npartitions
    np.testing.assert_array_equal(
        result, tileblot.blot_image(*scene, interp="poly3", precision="high"))


def _threads_cluster(n_workers):
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=False,
                        dashboard_address=":0")


def test_blot_under_a_client_places_its_bands_on_the_workers_of_the_moment(scene):
    data, pixmap = scene
    expected = tileblot.blot_image(data, pixmap, interp="poly5", precision="high")
    assert current_client() is None
    lazy = tileblot.blot(data, pixmap, chunks=16)
    assert "__dask_optimize__" not in vars(lazy)  # no client: dask's own optimisation
    with _threads_cluster(2) as cluster, Client(cluster) as client:
        assert current_client() is client
        lazy = tileblot.blot(data, pixmap, chunks=16)
        placement = vars(lazy)["__dask_optimize__"]
        assert sorted(set(placement.worker_of_row.values())) == sorted(
            client.scheduler_info()["workers"])
        np.testing.assert_array_equal(lazy.compute(), expected)
        # Derived arrays are dask's to place, and compute as usual.
        np.testing.assert_array_equal((lazy[:40] * 2).compute(), expected[:40] * 2)
        # One row of tiles: nothing to place.
        assert "__dask_optimize__" not in vars(tileblot.blot(data, pixmap, chunks=(80, 16)))
    # The client closed: a placed array computes on threads all the same, and its
    # workers being gone, nothing new is placed.
    np.testing.assert_array_equal(lazy.compute(), expected)
    assert "__dask_optimize__" not in vars(place_bands(tileblot.blot(data, pixmap, chunks=16),
                                                       client))


def test_one_worker_places_nothing(scene):
    data, pixmap = scene
    with _threads_cluster(1) as cluster, Client(cluster):
        lazy = tileblot.blot(data, pixmap, chunks=16)
        assert "__dask_optimize__" not in vars(lazy)
        assert type(lazy).__dask_optimize__ is Array.__dask_optimize__


def test_more_workers_than_rows_gives_each_row_its_own():
    assert BandPlacement("blot-x", 2, WORKERS).worker_of_row == {0: WORKERS[0], 1: WORKERS[1]}


_IMPORT_RACE = """
import threading, time
import numpy as np, tileblot
data, pixmap = np.ones((10, 10), np.float32), np.zeros((4, 4, 2))
tileblot.blot(data, pixmap, interp="linear", chunks=2)
errors, done = [], threading.Event()

def importer():
    import distributed  # noqa: F401
    done.set()

def caller():
    while not done.is_set():
        try:
            tileblot.blot(data, pixmap, interp="linear", chunks=2)
        except Exception as exc:
            errors.append(repr(exc))
            return

threads = [threading.Thread(target=caller), threading.Thread(target=importer)]
threads[0].start(); time.sleep(0.01); threads[1].start()
for thread in threads:
    thread.join()
print(errors)
"""


def test_a_blot_while_another_thread_imports_distributed():
    # A fresh process, so that distributed is imported for the first time during the calls:
    # half-initialised in sys.modules, it was asked for a client (AttributeError).
    import subprocess
    import sys

    found = subprocess.run([sys.executable, "-c", _IMPORT_RACE], capture_output=True, text=True,
                           timeout=120, check=True)
    assert found.stdout.strip() == "[]", found.stdout + found.stderr


def test_every_worker_of_a_cluster_is_seen():
    """distributed from 2025.7 to 2026.6 gives the first 5 workers by default: bands were
    placed on 5 workers of a larger cluster, and auto tiles sized for those 5 only."""
    with LocalCluster(n_workers=7, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        client.wait_for_workers(7)
        assert len(scheduler_workers(client)) == 7
        assert len(worker_addresses(client)) == 7
