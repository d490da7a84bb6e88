"""An exposure that (nearly) misses the mosaic: a CoverageWarning, and the fraction recorded.

The fraction is compared with a direct numpy count of the pixmap's on-image
coordinates, on every path: threads, dask-array data, banded tiles, several
exposures, and a job killed midway and resumed.
"""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pytest
import zarr

import tileblot
from tests.helpers import SlowSource, affine_pixmap
from tileblot._io._store import DONE

REPO = Path(__file__).resolve().parents[2]
DATA_SHAPE, OUT_SHAPE = (80, 100), (40, 50)  # 2000 exposure pixels


def shifted(dx, dy):
    """The exposure's grid shifted by ``(dx, dy)`` mosaic pixels."""
    return affine_pixmap(OUT_SHAPE, shift=(dx, dy))


OFF = shifted(500.0, 0.0)  # entirely off the mosaic
EDGE = shifted(90.0, 79.0)  # 10 columns of one row on it: 10 pixels, 0.5%
HALF = shifted(75.0, 0.0)  # 25 of 50 columns on it: 50%


def numpy_fraction(pixmap):
    x, y = pixmap[..., 0], pixmap[..., 1]
    with np.errstate(invalid="ignore"):
        on = (x >= 0) & (x < DATA_SHAPE[1]) & (y >= 0) & (y < DATA_SHAPE[0])
    return int(on.sum()), on.size


@pytest.fixture
def data(rng):
    return rng.normal(size=DATA_SHAPE).astype(np.float32)


def test_the_pixmaps_are_what_their_names_say():
    assert numpy_fraction(OFF) == (0, 2000)
    assert numpy_fraction(EDGE) == (10, 2000)
    assert numpy_fraction(HALF) == (1000, 2000)


def test_an_exposure_off_the_mosaic_warns(data, tmp_path):
    store = tmp_path / "off.zarr"
    with pytest.warns(tileblot.CoverageWarning, match=r"off\.zarr.*does not overlap the mosaic"):
        image = tileblot.blot_to_zarr(data, OFF, store, chunks=16, progress=False)
    assert (image[...] == 0).all()  # blank sky, which is why it warns
    coverage = tileblot.open_output(store).record["coverage"]
    assert (coverage["onimage"], coverage["pixels"], coverage["fraction"]) == (0, 2000, 0.0)


def test_an_exposure_half_a_percent_on_the_mosaic_warns_with_its_fraction(data, tmp_path):
    with pytest.warns(tileblot.CoverageWarning, match=r"only 0\.5% of the exposure's pixels"):
        tileblot.blot_to_zarr(data, EDGE, tmp_path / "edge.zarr", chunks=16, progress=False)
    assert tileblot.open_output(tmp_path / "edge.zarr").record["coverage"]["onimage"] == 10


def test_warnings_can_be_raised_as_errors(data, tmp_path):
    assert issubclass(tileblot.CoverageWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tileblot.CoverageWarning)
        with pytest.raises(tileblot.CoverageWarning):
            tileblot.blot_to_zarr(data, OFF, tmp_path / "off.zarr", chunks=16, progress=False)


@pytest.mark.parametrize("path", ["numpy", "dask", "bands"])
def test_an_exposure_half_on_the_mosaic_does_not_warn(data, tmp_path, path):
    # Strict pytest: any warning here fails the test.
    source = da.from_array(data, chunks=32) if path == "dask" else data
    config = {"tileblot.task-memory": 4000} if path == "bands" else {}
    source = zarr.create_array(tmp_path / "mosaic.zarr", data=data, chunks=(32, 32)) \
        if path == "bands" else source  # banded tiles need a source read from a store
    with dask.config.set(config):
        tileblot.blot_to_zarr(source, HALF, tmp_path / "half.zarr", chunks=(16, 20),
                              progress=False)
    coverage = tileblot.open_output(tmp_path / "half.zarr").record["coverage"]
    assert (coverage["onimage"], coverage["pixels"]) == numpy_fraction(HALF)
    assert coverage["fraction"] == 0.5 and not coverage["partial"]


def test_several_exposures_warn_for_the_one_that_misses(data, tmp_path):
    stores = [tmp_path / "a.zarr", tmp_path / "b.zarr"]
    with pytest.warns(tileblot.CoverageWarning) as caught:
        tileblot.blot_to_zarr(data, [HALF, OFF], stores, chunks=16, progress=False)
    assert len(caught) == 1 and "b.zarr" in str(caught[0].message)
    assert [tileblot.open_output(s).record["coverage"]["onimage"] for s in stores] == [1000, 0]


_KILLED_JOB = """
import sys
import numpy as np
import tileblot
from tests.helpers import SlowSource, affine_pixmap
data = np.load(sys.argv[1])
pixmap = np.load(sys.argv[2])
tileblot.blot_to_zarr(SlowSource(data, delay=0.2), pixmap, sys.argv[3], chunks=10,
                      progress=False)
"""


def test_a_job_killed_midway_and_resumed_keeps_the_right_fraction(data, tmp_path):
    np.save(tmp_path / "data.npy", data)
    np.save(tmp_path / "pixmap.npy", HALF)
    store = tmp_path / "out.zarr"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_JOB, str(tmp_path / "data.npy"),
         str(tmp_path / "pixmap.npy"), str(store)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            records = store / DONE / "c"
            if records.exists() and sum(len(files) for _, _, files in os.walk(records)) >= 4:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    info = tileblot.open_output(store).record
    assert 4 <= info["tiles_done"] < info["tiles"], "the job was not killed midway"
    partial = info["coverage"]
    assert partial["partial"] and partial["tiles_counted"] == info["tiles_done"]
    source = SlowSource(data, delay=0.0)  # the same kind of input as the killed job's
    tileblot.blot_to_zarr(source, HALF, store, chunks=10, resume=True, progress=False)
    # Done tiles were not recomputed (only tiles on the mosaic read a window)...
    assert len(source.reads) <= info["tiles"] - info["tiles_done"]
    coverage = tileblot.open_output(store).record["coverage"]
    # ...and the fraction still counts every tile, those of the killed job included.
    assert (coverage["onimage"], coverage["pixels"]) == numpy_fraction(HALF)
    assert not coverage["partial"]


def test_a_store_from_before_the_count_resumes_without_coverage(rng, tmp_path):
    """tileblot 0.1 wrote uint8 records of 1: resumed now, it completes, coverage unknown."""
    data = rng.normal(size=DATA_SHAPE).astype(np.float32)
    store = str(tmp_path / "old.zarr")
    tileblot.blot_to_zarr(data, HALF, store, chunks=20, progress=False)
    group = zarr.open_group(store, mode="r+")
    del group[DONE]
    old = group.create_array(DONE, shape=(2, 3), chunks=(1, 1), dtype=np.uint8, fill_value=0)
    old[...] = 1
    old[1, 2] = 0  # one tile left to do
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing fails on the old records
        tileblot.blot_to_zarr(data, HALF, store, chunks=20, progress=False, resume=True)
    output = tileblot.open_output(store)
    assert output.complete and output.record["coverage"] is None
    np.testing.assert_array_equal(output.image[...], tileblot.blot_image(
        data, HALF, interp="poly5", precision="high"))
