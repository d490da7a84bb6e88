"""Object stores end to end: an S3 mosaic and pixmap blotted into an S3 output, on a real
S3-compatible server (moto's, on loopback: tests/conftest.py).

The credentials and the endpoint reach the server only through ``storage_options``
(the environment has no AWS set-up), so a worker process that writes a tile got them
from the store tileblot handed it.
"""

import dask.array as da
import numpy as np
import pytest
import zarr
from distributed import Client, LocalCluster

import tileblot
from tileblot._cli import main
from tileblot._io._urls import zarr_store

s3fs = pytest.importorskip("s3fs")  # the test extra installs it; moto too

SHAPE = (120, 150)  # the mosaic
OUT_SHAPE = (90, 100)  # the exposure
TILE = 32  # 3 x 4 tiles


@pytest.fixture
def scene(s3, rng):
    """A mosaic and a pixmap written to S3 as zarr: ``(bucket, options, data, pixmap)``."""
    bucket, options = s3
    data = rng.normal(size=SHAPE).astype(np.float32)
    pixmap = tileblot.affine_pixmap(OUT_SHAPE, rotation=20.0, scale=1.1,
                                    shift=(15.0, 10.0)).compute()
    for name, array, chunks in (("mosaic.zarr", data, (64, 64)),
                                ("pixmap.zarr", pixmap, (TILE, TILE, 2))):
        store = zarr_store(f"{bucket}/{name}", storage_options=options, read_only=False,
                           what="test")
        zarr.create_array(store, data=array, chunks=chunks)
    return bucket, options, data, pixmap


def _read_back(url, options):
    """The output's image and tile records, read through a connection of its own."""
    group = zarr.open_group(zarr_store(url, storage_options=options, read_only=True,
                                       what="test"), mode="r")
    return np.asarray(group["image"][...]), np.asarray(group["tiles_done"][...]) > 0


def test_an_s3_mosaic_blotted_into_an_s3_output(scene, tmp_path):
    bucket, options, data, pixmap = scene
    out = f"{bucket}/out.zarr"
    expected = tileblot.blot_image(data, pixmap, interp="lan3", precision="high")
    image = tileblot.blot_to_zarr(f"{bucket}/mosaic.zarr", f"{bucket}/pixmap.zarr", out,
                                  interp="lan3", storage_options=options, progress=False)
    assert image.chunks == (TILE, TILE)  # the pixmap's own chunking
    written, done = _read_back(out, options)
    np.testing.assert_array_equal(written, expected)
    assert done.shape == (3, 4) and done.all()
    # The record names the inputs by URL, and keeps no credentials.
    output = tileblot.open_output(out, storage_options=options)
    assert output.complete and output.record["data"]["location"] == f"{bucket}/mosaic.zarr"
    assert "tileblot-test" not in repr(dict(output.image.attrs))
    np.testing.assert_array_equal(output.image[...], expected)
    # The lazy facade reads the same inputs the same way; export streams the S3 image.
    lazy = tileblot.blot(f"{bucket}/mosaic.zarr", f"{bucket}/pixmap.zarr", interp="lan3",
                         storage_options=options)
    np.testing.assert_array_equal(lazy.compute(), expected)
    fits = pytest.importorskip("astropy.io.fits")
    path = tileblot.export_fits(out, tmp_path / "out.fits", storage_options=options)
    np.testing.assert_array_equal(fits.getdata(path), expected)
    assert tileblot.verify_output(out, storage_options=options)["tiles_corrupt"] == []

    # A tile object cut short: only decoding sees it; repair forgets it, resume redoes it.
    fs = s3fs.S3FileSystem(**options)
    chunk = f"{out[5:]}/image/c/1/3"
    fs.pipe(chunk, fs.cat(chunk)[:9])
    report = tileblot.verify_output(out, storage_options=options, repair=True)
    assert report["tiles_corrupt"] == [[1, 3]] and report["repaired"]
    tileblot.blot_to_zarr(f"{bucket}/mosaic.zarr", f"{bucket}/pixmap.zarr", out, interp="lan3",
                          resume=True, storage_options=options, progress=False)
    np.testing.assert_array_equal(_read_back(out, options)[0], expected)


def test_an_interrupted_s3_job_resumes_into_the_same_image(scene, tmp_path, capsys):
    bucket, options, data, pixmap = scene
    out = f"{bucket}/resumed.zarr"
    expected = tileblot.blot_image(data, pixmap, interp="linear", precision="high")
    flag = tmp_path / "failed-once"

    def block(x, block_info=None):
        # The pixmap of tile (1, 2) fails the first time it is computed: the job dies there.
        (r0, r1), (c0, c1), _ = block_info[None]["array-location"]
        if block_info[None]["chunk-location"][:2] == (1, 2) and not flag.exists():
            flag.touch()
            raise RuntimeError("interrupted on purpose")
        return np.asarray(pixmap[r0:r1, c0:c1])

    # A fixed name: the second run's pixmap is the same input as the first's.
    flaky = da.map_blocks(block, da.zeros(pixmap.shape, chunks=(TILE, TILE, 2)),
                          dtype=np.float64, name="flaky-pixmap-for-s3-resume")
    with pytest.raises(RuntimeError, match="interrupted on purpose"):
        tileblot.blot_to_zarr(f"{bucket}/mosaic.zarr", flaky, out, interp="linear",
                              storage_options=options, progress=False)
    _, done_before = _read_back(out, options)
    assert not done_before[1, 2] and done_before.sum() < done_before.size
    assert tileblot.open_output(out, storage_options=options).record["lock"] is None
    # What the command line says of it: incomplete, and how to finish it.
    flags = [f for key, value in options.items() for f in ("--storage-option", f"{key}={value}")]
    assert main(["info", out, *flags]) == 0
    said = capsys.readouterr().out
    assert f"{done_before.sum()} / 12 tiles" in said and "finish with 'tileblot blot" in said

    tileblot.blot_to_zarr(f"{bucket}/mosaic.zarr", flaky, out, interp="linear", resume=True,
                          storage_options=options, progress=False)
    written, done = _read_back(out, options)
    assert done.all()
    np.testing.assert_array_equal(written, expected)
    assert main(["info", out, "--verify", *flags]) == 0
    assert "12 / 12 tiles (100%)" in capsys.readouterr().out

    # A recorded tile whose object is lost is not done: the listing shows it, resume redoes it.
    s3fs.S3FileSystem(**options).rm(f"{out[5:]}/image/c/2/1")
    record = tileblot.open_output(out, storage_options=options).record
    assert record["tiles_missing_chunk"] == [[2, 1]] and not record["complete"]
    tileblot.blot_to_zarr(f"{bucket}/mosaic.zarr", flaky, out, interp="linear", resume=True,
                          storage_options=options, progress=False)
    np.testing.assert_array_equal(_read_back(out, options)[0], expected)


def test_one_s3_output_spelled_two_ways_is_refused_before_any_write(scene):
    bucket, options, _, _ = scene
    pixmaps = [f"{bucket}/pixmap.zarr"] * 2
    with pytest.raises(ValueError, match="are the same output"):
        tileblot.blot_to_zarr(f"{bucket}/mosaic.zarr", pixmaps,
                              [f"{bucket}/twice.zarr", f"{bucket}/twice.zarr/"],
                              storage_options=options, progress=False)
    with pytest.raises(ValueError, match="lies inside the output store"):
        tileblot.blot_to_zarr(f"{bucket}/mosaic.zarr/", f"{bucket}/pixmap.zarr",
                              f"{bucket}/mosaic.zarr", overwrite=True,
                              storage_options=options, progress=False)
    assert not s3fs.S3FileSystem(**options).find(f"{bucket[5:]}/twice.zarr")


def test_storage_options_without_a_url_are_refused(scene, tmp_path):
    _, options, data, pixmap = scene
    for call in (
        lambda: tileblot.blot_to_zarr(data, pixmap, tmp_path / "out.zarr",
                                      storage_options=options, progress=False),
        lambda: tileblot.blot(data, pixmap, storage_options=options),
        lambda: tileblot.open_output(tmp_path / "out.zarr", storage_options=options),
    ):
        with pytest.raises(ValueError, match="storage_options apply to URLs"):
            call()
    assert not (tmp_path / "out.zarr").exists()


@pytest.mark.slow
def test_worker_processes_reach_s3_with_the_options_alone(scene):
    # The environment has no credentials and no endpoint (conftest): the workers, new
    # processes, can write the S3 output only with what travelled inside the stores.
    bucket, options, data, pixmap = scene
    expected = tileblot.blot_image(data, pixmap, interp="poly3", precision="high")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", host="127.0.0.1") as cluster, \
            Client(cluster) as client:
        tileblot.blot_to_zarr(f"{bucket}/mosaic.zarr", f"{bucket}/pixmap.zarr",
                              f"{bucket}/cluster.zarr", interp="poly3", client=client,
                              storage_options=options, progress=False)
    written, done = _read_back(f"{bucket}/cluster.zarr", options)
    assert done.all()
    np.testing.assert_array_equal(written, expected)
