"""Running a job on a cluster (``tileblot._api._compute``): where its bands go, and workers
too small for it."""

import warnings

import dask
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tileblot._api._compute import band_workers, warn_small_workers


def test_plans_with_a_band_per_worker_line_up():
    # Band k of every such plan on worker k: exposures dithered over one region of the mosaic
    # have its chunks decoded on one worker.
    assert band_workers([3, 3, 3], ["a", "b", "c"]) == ["a", "b", "c"] * 3


def test_small_plans_take_the_workers_in_turn():
    # Eight exposures of one tile row each on two workers all ran on the first.
    assert band_workers([1] * 8, ["a", "b"]) == ["a", "b"] * 4
    assert band_workers([2, 1, 1, 2, 2], ["a", "b", "c"]) == [
        "a", "b", "c", "a", "b", "c", "a", "b"]


def test_no_worker_yet_leaves_every_band_unplaced():
    assert band_workers([2, 1], []) == [None, None, None]


@given(st.lists(st.integers(1, 6), min_size=1, max_size=12), st.integers(1, 5))
def test_every_band_is_placed_and_small_plans_spread_evenly(counts, n):
    workers = [f"w{k}" for k in range(n)]
    places = band_workers(counts, workers)
    assert len(places) == sum(counts) and set(places) <= set(workers)
    small = []
    for count, start in zip(counts, [sum(counts[:i]) for i in range(len(counts))], strict=True):
        if count < n:
            small += places[start : start + count]
    loads = [small.count(w) for w in workers]
    assert max(loads) - min(loads) <= 1


def _worker(limit, threads=1, memory=64 << 20):
    return {"memory_limit": limit, "nthreads": threads, "metrics": {"memory": memory}}


def test_workers_too_small_for_the_budgets_are_warned_of():
    # Two workers of 250 MB paused at 213 MiB once the kernels were loaded: the job waited
    # for good, with no error. 400 MB workers peaked at 309 MiB and finished.
    with pytest.warns(UserWarning, match=r"worker memory limit too small for this job: "
                                         r"tcp://a \(limit 238 MiB: about 250 MiB at its peak, "
                                         r"paused at 191\)\. "):
        warn_small_workers({"tcp://a": _worker(250_000_000), "tcp://b": _worker(400_000_000)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_small_workers({"tcp://b": _worker(400_000_000), "tcp://c": _worker(None),
                            "tcp://d": _worker(16 << 30, threads=8)})
        with dask.config.set({"distributed.worker.memory.pause": False}):
            warn_small_workers({"tcp://a": _worker(250_000_000)})
