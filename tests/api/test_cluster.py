"""The same code on a process cluster, a real scheduler + workers, and through worker failure."""

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import zarr
from distributed import Client, LocalCluster, wait

import tileblot
from tests.helpers import (
    RecordingSource,
    SlowSource,
    affine_pixmap,
    scheduler_address,
    start_scheduler,
)
from tileblot._io._store import DONE, describe

REPO = Path(__file__).resolve().parents[2]

# Real process clusters: slow, and run in CI all the same (deselect with -m "not slow").
pytestmark = pytest.mark.slow


@pytest.fixture
def scene(rng):
    data = rng.normal(size=(120, 140)).astype(np.float32)
    pixmap = affine_pixmap((96, 112), scale=1.1, angle=0.25, shift=(15.0, -5.0))
    return data, pixmap


def _local_cluster(n_workers=2):
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                        dashboard_address=":0", host="127.0.0.1")


def test_local_cluster_processes(scene, tmp_path):
    data, pixmap = scene
    expected = tileblot.blot_image(data, pixmap, interp="poly5", precision="high")
    with _local_cluster() as cluster, Client(cluster) as client:
        lazy = tileblot.blot(data, pixmap, chunks=32)
        np.testing.assert_array_equal(client.compute(lazy).result(), expected)
        image = tileblot.blot_to_zarr(data, pixmap, tmp_path / "out.zarr", chunks=32,
                                      client=client, progress=False)
    np.testing.assert_array_equal(image[...], expected)


def _restrictions(dask_scheduler, name):
    """On the scheduler: ``{(row, column): (workers, loose)}`` of the tiles of array ``name``."""
    return {key[1:3]: (sorted(ts.worker_restrictions or ()), ts.loose_restrictions)
            for key, ts in dask_scheduler.tasks.items()
            if isinstance(key, tuple) and key[0] == name}


def test_a_lazy_image_reaches_the_scheduler_with_one_band_per_worker(tmp_path, rng):
    """What the scheduler of a process cluster holds for ``blot(...)``: every tile and its
    pixmap tile restricted, loosely, to its band's worker, after dask's optimisation."""
    data = rng.normal(size=(200, 180)).astype(np.float32)
    zarr.create_array(tmp_path / "mosaic.zarr", data=data, chunks=(64, 64))
    mosaic = zarr.open_array(tmp_path / "mosaic.zarr", mode="r")
    pixmap = tileblot.affine_pixmap((150, 130), rotation=15, shift=(20.0, 20.0), chunks=25)
    expected = tileblot.blot_image(data, pixmap.compute(), interp="lan3", precision="high")
    with _local_cluster() as cluster, Client(cluster) as client:
        workers = sorted(client.scheduler_info()["workers"])
        lazy = tileblot.blot(mosaic, pixmap, interp="lan3")
        persisted = client.persist(lazy)
        wait(persisted)  # the graph is on the scheduler, its tiles held there
        placed = client.run_on_scheduler(_restrictions, name=lazy.name)
        # Each tile's pixmap tile is computed where the tile will run.
        (pixmap_name,) = {key[0] for key in lazy.dask if key[0].startswith("affine_pixmap")}
        pixmap_placed = client.run_on_scheduler(_restrictions, name=pixmap_name)
        result = persisted.compute()
    assert len(placed) == lazy.npartitions
    assert pixmap_placed == placed
    bands = {row: restriction for (row, _), restriction in placed.items()}
    first, second = ([workers[0]], True), ([workers[1]], True)
    assert [bands[row] for row in range(6)] == [first] * 3 + [second] * 3
    assert all(restriction == bands[row] for (row, _), restriction in placed.items())
    np.testing.assert_array_equal(result, expected)


def test_a_band_whose_worker_left_runs_on_the_others(scene):
    data, pixmap = scene
    expected = tileblot.blot_image(data, pixmap, interp="poly5", precision="high")
    with _local_cluster() as cluster, Client(cluster) as client:
        lazy = tileblot.blot(data, pixmap, chunks=24)
        gone = sorted(client.scheduler_info()["workers"])[1]
        client.retire_workers([gone])
        assert gone not in client.scheduler_info()["workers"]
        np.testing.assert_array_equal(lazy.compute(), expected)


def test_a_cluster_whose_workers_join_after_the_job_starts(scene, tmp_path):
    """The job waits for the first worker (a batch queue starting them late), as any dask
    job does; before, a scheduler without workers raised ``ZeroDivisionError``."""
    data, pixmap = scene
    expected = tileblot.blot_image(data, pixmap, interp="poly5", precision="high")
    with _local_cluster(n_workers=0) as cluster, Client(cluster) as client:
        assert client.scheduler_info()["workers"] == {}
        threading.Timer(2.0, cluster.scale, args=(1,)).start()
        image = tileblot.blot_to_zarr(data, pixmap, tmp_path / "out.zarr", chunks=32,
                                      client=client, progress=False)
    np.testing.assert_array_equal(image[...], expected)


def test_an_output_the_workers_do_not_see_is_said_so(scene, tmp_path):
    """A worker on a node without the client's filesystem (here: its own mount namespace,
    a private tmpfs over the output's folder) finds no lock of the job there. The job
    stopped saying that the job "no longer holds" the store, which sent the user looking
    for another job."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs unshare, as root, to give a worker its own mounts")
    data, pixmap = scene
    hidden = tmp_path / "nodelocal"
    hidden.mkdir()
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [start_scheduler(scheduler_file, cwd=REPO, env=env)]
    log = tmp_path / "worker.log"
    try:
        address = scheduler_address(scheduler_file)
        with log.open("w") as log_file:
            worker = subprocess.Popen(
                [unshare, "--mount", "sh", "-c",
                 f"mount -t tmpfs none '{hidden}' && exec '{sys.executable}' -m "
                 f"distributed.cli.dask_worker {address} --nthreads 1 --no-dashboard "
                 "--host 127.0.0.1"],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
        procs.append(worker)
        with Client(address, timeout=60) as client:
            deadline = time.monotonic() + 60
            while not client.scheduler_info()["workers"]:
                if worker.poll() is not None:
                    pytest.skip(f"no worker in its own mounts here: {log.read_text()}")
                assert time.monotonic() < deadline, "the worker did not join"
                time.sleep(0.2)
            store = hidden / "out.zarr"
            with pytest.raises(RuntimeError, match=r"yet this process sees it \(.*out.zarr'\) "
                                                   r"held by the job: the workers do not see "
                                                   r"the store this process writes"):
                tileblot.blot_to_zarr(data, pixmap, store, interp="linear", chunks=48,
                                      client=client, progress=False)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    assert describe(str(store))["lock"] is None  # released: a job on shared storage may start


def test_real_scheduler_and_workers_on_loopback(scene, tmp_path):
    data, pixmap = scene
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [start_scheduler(scheduler_file, cwd=REPO, env=env)]
    try:
        address = scheduler_address(scheduler_file)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address,
                 "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            store = tmp_path / "out.zarr"
            image = tileblot.blot_to_zarr(data, pixmap, store, interp="lan5", chunks=24,
                                          client=client, progress=False)
            # The lazy image's placement is unpickled and run by the scheduler's process.
            lazy = tileblot.blot(data, pixmap, interp="lan5", chunks=24).compute()
            workers_used = client.run(os.getpid)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    assert len(workers_used) == 2
    expected = tileblot.blot_image(data, pixmap, interp="lan5", precision="high")
    np.testing.assert_array_equal(image[...], expected)
    np.testing.assert_array_equal(lazy, expected)


@pytest.mark.parametrize("victims", ["one", "all"])
def test_worker_killed_mid_job_loses_nothing(scene, tmp_path, victims):
    """Every worker killed at once (their nannies start new ones, under new addresses): the
    bands placed on the old ones waited for them for ever (distributed's "no-worker" state
    ignores allow_other_workers), and the job never ended."""
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    source = SlowSource(data, delay=0.1)
    expected = tileblot.blot_image(data, pixmap, interp="linear", precision="high")
    with _local_cluster() as cluster, Client(cluster) as client:
        errors = []

        def job():
            try:
                tileblot.blot_to_zarr(source, pixmap, store, interp="linear", chunks=12,
                                      client=client, progress=False)
            except Exception as exc:  # reported by the assertion below
                errors.append(exc)

        runner = threading.Thread(target=job)
        runner.start()
        deadline = time.monotonic() + 60
        done = None
        while time.monotonic() < deadline:
            if (store / DONE / "zarr.json").exists():
                done = zarr.open_group(store, mode="r")[DONE]
                if (done[...] > 0).sum() >= 4:
                    break
            time.sleep(0.05)
        assert done is not None and 0 < (done[...] > 0).sum() < done.size, "job not midway"
        pids = list(client.run(os.getpid).values())
        for victim in pids[:1] if victims == "one" else pids:
            os.kill(victim, signal.SIGKILL)
        runner.join(timeout=120)
        assert not runner.is_alive()
    assert errors == []
    assert describe(store)["complete"]
    np.testing.assert_array_equal(zarr.open_group(store)["image"][...], expected)



def _fails(block):
    raise OSError("disk went away")


def _tasks_on(dask_scheduler):
    return len(dask_scheduler.tasks)


def test_a_failed_job_names_its_exposure_and_leaves_the_cluster_idle(scene, tmp_path):
    # Exposure 2's pixmap cannot be read; exposure 1's tiles are slow. The error's traceback
    # (kept here as a notebook keeps it) holds the job's futures: the cluster must still stop.
    data, pixmap = scene
    bad = da.from_array(pixmap, chunks=(32, 32, 2)).map_blocks(_fails, dtype=pixmap.dtype)
    stores = [tmp_path / "one.zarr", tmp_path / "two.zarr"]
    with _local_cluster() as cluster, Client(cluster) as client:
        with pytest.raises(OSError, match="disk went away") as kept:
            tileblot.blot_to_zarr(SlowSource(data, delay=0.2), [pixmap, bad], stores,
                                  interp="linear", chunks=12, client=client, progress=False)
        deadline = time.monotonic() + 10
        while client.run_on_scheduler(_tasks_on) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.run_on_scheduler(_tasks_on) == 0
        assert kept.traceback  # still held
    # The failed exposure is named, not the slow one.
    notes = getattr(kept.value, "__notes__", [])
    assert len(notes) == 1 and notes[0].startswith("exposure 2 of 2 (output ")
    assert notes[0].endswith("two.zarr') failed"), notes
    assert not describe(stores[0])["complete"]


def test_a_cancelled_gather_leaves_no_asyncio_report():
    # Its waiting tasks end with distributed's AllExit, which asyncio would print with a
    # traceback as "never retrieved"; every other report passes.
    from distributed.client import AllExit

    from tileblot._api._compute import _quiet_gather_exits

    _quiet_gather_exits()
    _quiet_gather_exits()  # once is enough: not installed twice
    logger = logging.getLogger("asyncio")
    assert sum(type(f).__name__ == "_DropGatherExits" for f in logger.filters) == 1

    def passes(exc):
        record = logger.makeRecord("asyncio", logging.ERROR, __file__, 0,
                                   "Task exception was never retrieved", (),
                                   (type(exc), exc, None))
        return bool(logger.filter(record))

    assert not passes(AllExit())
    assert passes(ValueError("a real failure"))


def _kernel_cache_stats():
    from tileblot._kernels._registry import resolve

    stats = resolve("lan3").entry_point("high").stats
    return sum(stats.cache_hits.values()), sum(stats.cache_misses.values())


def test_workers_load_kernels_from_the_disk_cache(scene):
    data, pixmap = scene
    lazy = tileblot.blot(data, pixmap, interp="lan3", chunks=24)
    # A first cluster compiles whatever its workers need and caches it on disk...
    with _local_cluster() as cluster, Client(cluster) as client:
        client.compute(lazy).result()
    # ...so fresh worker processes load every kernel from the cache, compiling nothing.
    with _local_cluster() as cluster, Client(cluster) as client:
        client.compute(lazy).result()
        stats = client.run(_kernel_cache_stats)
    for _hits, misses in stats.values():
        assert misses == 0
    assert sum(hits for hits, _ in stats.values()) >= 1


# ------------------------------------------------------------------ stores workers can't see


def test_stores_the_workers_cannot_see(scene, tmp_path):
    """An in-memory store is refused before any work; a relative path, or a zarr store with a
    relative root, is where the client sees it, whatever the workers' directory."""
    data, pixmap = scene
    source = RecordingSource(data)
    with _local_cluster() as cluster, Client(cluster) as client:
        for store in (zarr.storage.MemoryStore(), f"memory://tileblot-cluster-{os.getpid()}"):
            with pytest.raises(ValueError, match=r"memory.*other processes"):
                tileblot.blot_to_zarr(source, pixmap, store, chunks=48, client=client,
                                      progress=False)
        # An input on fsspec's memory:// filesystem is empty in every worker process: refused
        # before any work, and, in a lazy image computed there, an error rather than zeros.
        memory = f"memory://tileblot-cluster-inputs-{os.getpid()}"
        zarr.create_array(f"{memory}/mosaic.zarr", data=data, chunks=(40, 40))
        zarr.create_array(f"{memory}/pixmap.zarr", data=pixmap, chunks=(48, 48, 2))
        for what, inputs in [("data", (f"{memory}/mosaic.zarr", pixmap)),
                             ("pixmap", (data, f"{memory}/pixmap.zarr"))]:
            with pytest.raises(ValueError, match=fr"the {what} \(memory://.*\) lives in this "
                                                 r"process's memory.*empty memory:// filesystem"):
                tileblot.blot_to_zarr(*inputs, tmp_path / "never.zarr", chunks=48,
                                      client=client, progress=False)
            assert not (tmp_path / "never.zarr").exists()
            with pytest.raises(ValueError, match=r"input zarr array memory://.* is not there "
                                                 r"for this process"):
                client.compute(tileblot.blot(*inputs, chunks=48)).result()
        # The workers look at another directory than the client: a relative store is made
        # absolute by the client (a LocalStore's relative root once was not: its tiles went
        # into the workers' directory, and the job failed its final check).
        client_dir, worker_dirs = tmp_path / "client", tmp_path / "workers"
        client_dir.mkdir()
        worker_dirs.mkdir()
        cwd = os.getcwd()
        client.run(os.chdir, str(worker_dirs))
        try:
            os.chdir(client_dir)
            images = [tileblot.blot_to_zarr(data, pixmap, store, chunks=48, client=client,
                                            progress=False)
                      for store in (zarr.storage.LocalStore("out.zarr"), "by-path.zarr")]
        finally:
            os.chdir(cwd)
            client.run(os.chdir, cwd)
    assert source.reads == []
    assert list(worker_dirs.iterdir()) == []
    expected = tileblot.blot_image(data, pixmap, interp="poly5", precision="high")
    for name, image in zip(("out.zarr", "by-path.zarr"), images, strict=True):
        assert describe(client_dir / name)["complete"]
        np.testing.assert_array_equal(image[...], expected)


def test_coverage_on_a_process_cluster(tmp_path, rng):
    """Counts come back from worker processes: the warning and the recorded fraction."""
    from tests.api.test_coverage import EDGE, HALF, numpy_fraction

    data = rng.normal(size=(80, 100)).astype(np.float32)
    stores = [tmp_path / "e.zarr", tmp_path / "h.zarr"]
    with (_local_cluster() as cluster, Client(cluster) as client,
          pytest.warns(tileblot.CoverageWarning, match=r"only 0\.5%")):
        tileblot.blot_to_zarr(data, [EDGE, HALF], stores, chunks=16, client=client,
                              progress=False)
    for name, pixmap in (("e.zarr", EDGE), ("h.zarr", HALF)):
        coverage = describe(tmp_path / name)["coverage"]
        assert (coverage["onimage"], coverage["pixels"]) == numpy_fraction(pixmap)
