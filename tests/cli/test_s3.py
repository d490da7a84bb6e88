"""The command line on object stores: ``--storage-option`` against a real S3-compatible
server (moto's, on loopback: tests/conftest.py).

The blot runs on the command line's own local cluster, started after the environment
lost every AWS setting: its worker process reaches S3 with the options alone.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

import tileblot
from tests.helpers import affine_pixmap, run_cli
from tileblot._io._urls import zarr_store

s3fs = pytest.importorskip("s3fs")  # the test extra installs it; moto too

ROOT = Path(__file__).resolve().parents[2]
DATA_SHAPE, OUT_SHAPE = (60, 70), (40, 50)


@pytest.fixture
def scene(s3, rng):
    bucket, options = s3
    data = rng.normal(size=DATA_SHAPE).astype(np.float32)
    pixmap = affine_pixmap(OUT_SHAPE, scale=1.05, angle=0.2, shift=(8.0, -3.0))
    for name, array, chunks in (("mosaic.zarr", data, (32, 32)),
                                ("pixmap.zarr", pixmap, (16, 16, 2))):
        zarr.create_array(zarr_store(f"{bucket}/{name}", storage_options=options,
                                     read_only=False, what="test"), data=array, chunks=chunks)
    flags = [arg for key, value in options.items()
             for arg in ("--storage-option", f"{key}={value}")]
    return bucket, options, flags, data, pixmap


def test_blot_info_and_export_on_s3(scene, tmp_path, capsys):
    bucket, options, flags, data, pixmap = scene
    out = f"{bucket}/out.zarr"
    status, text, err = run_cli(["blot", f"{bucket}/mosaic.zarr", f"{bucket}/pixmap.zarr", out,
                              "--interp", "poly3", "--workers", "1", "--no-progress", *flags],
                             capsys)
    assert (status, err) == (0, "")
    assert f"wrote {out}: 40 x 50 pixels, 12 of 12 tiles" in text
    expected = tileblot.blot_image(data, pixmap, interp="poly3", precision="high")
    output = tileblot.open_output(out, storage_options=options)
    np.testing.assert_array_equal(output.image[...], expected)

    status, text, err = run_cli(["info", out, "--verify", *flags], capsys)
    assert (status, err) == (0, "")
    assert "12 / 12 tiles (100%)" in text and "every chunk decodes" in text
    fits = pytest.importorskip("astropy.io.fits")
    status, text, err = run_cli(["export", out, tmp_path / "out.fits", *flags], capsys)
    assert (status, err) == (0, "")
    np.testing.assert_array_equal(fits.getdata(tmp_path / "out.fits"), expected)

    # As a user runs it: a new process whose environment has no AWS settings either.
    info = subprocess.run([sys.executable, "-m", "tileblot", "info", out, "--json", *flags],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert info.returncode == 0, info.stderr
    record = json.loads(info.stdout)
    assert record["tiles_done"] == record["tiles"] == 12 and record["complete"] is True
    assert record["store"] == out and record["data"]["location"] == f"{bucket}/mosaic.zarr"


def test_s3_mistakes_are_one_line_each(scene, s3_server, capsys):
    bucket, options, flags, _, _ = scene
    wrong_port = ["--storage-option", "endpoint_url=http://127.0.0.1:9"]
    credentials = [f for key in ("key", "secret") for f in
                   ("--storage-option", f"{key}={options[key]}")]
    endpoint = ["--storage-option", f"endpoint_url={s3_server}"]
    cases = [
        (["info", f"{bucket}/nothing.zarr", *flags],
         f"no such output store '{bucket}/nothing.zarr'"),
        (["info", f"{bucket}/x.zarr", *credentials, *wrong_port],
         "OUT: cannot use '"),
        # export probed nothing: 12 s of botocore's retries, then a bare exception (exit 1).
        (["export", f"{bucket}/x.zarr", "x.fits", *credentials, *wrong_port],
         "OUT.zarr: cannot use '"),
        (["export", f"{bucket}/x.zarr", "x.fits", *endpoint],
         "Unable to locate credentials; give credentials"),
        (["export", "s3://no-such-bucket/o.zarr", "x.fits", *flags],
         "OUT.zarr: 's3://no-such-bucket/o.zarr': there is no bucket 'no-such-bucket'"),
        (["info", f"{bucket}//o.zarr", *flags], "has an empty name after the bucket"),
        (["blot", f"{bucket}/mosaic.zarr", f"{bucket}/pixmap.zarr", f"{bucket}/o.zarr",
          *credentials, *wrong_port], "OUT: cannot use '"),
        (["blot", f"{bucket}/mosaic.zarr", f"{bucket}/pixmap.zarr", "s3://no-such-bucket/o.zarr",
          *flags], "OUT: 's3://no-such-bucket/o.zarr': there is no bucket 'no-such-bucket'"),
        (["blot", f"{bucket}/nosaic.zarr", f"{bucket}/pixmap.zarr", f"{bucket}/o.zarr", *flags],
         f"data: no such zarr store '{bucket}/nosaic.zarr'"),
        (["blot", f"{bucket}/mosaic.zarr", f"{bucket}/pixmap.zarr", f"{bucket}/o.zarr",
          *endpoint], "Unable to locate credentials; give credentials"),
        # An option without any URL to use it is a mistake, named before anything runs.
        (["info", "local.zarr", *flags], "storage_options apply to URLs"),
        (["info", f"{bucket}/x.zarr", "--storage-option", "endpoint_url"], "expected KEY=VALUE"),
    ]
    for argv, message in cases:
        status, _, err = run_cli(argv, capsys)
        assert status == 2, (argv, err)
        assert err.count("\n") == 1 and message in err, (argv, err)
        assert "Traceback" not in err
    # The bucket holds only its inputs: no failed command left anything behind.
    listing = s3fs.S3FileSystem(**options).ls(bucket[5:], refresh=True)
    assert sorted(name.rsplit("/", 1)[-1] for name in listing) == ["mosaic.zarr", "pixmap.zarr"]
