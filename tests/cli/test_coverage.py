"""The command line on an exposure that misses the mosaic: one warning line, exit 0, and info."""

import json

import numpy as np
import pytest
import zarr

from tests.api.test_coverage import DATA_SHAPE, EDGE, HALF, OFF, numpy_fraction
from tests.helpers import run_cli
from tileblot._io._store import DONE


@pytest.fixture
def mosaic(rng, tmp_path):
    path = tmp_path / "mosaic.zarr"
    zarr.create_array(path, data=rng.normal(size=DATA_SHAPE).astype(np.float32),
                      chunks=(32, 32))
    return path


def _blot(mosaic, pixmap, out, scheduler, capsys):
    np.save(out.with_suffix(".npy"), pixmap)
    return run_cli(["blot", mosaic, out.with_suffix(".npy"), out, "--chunks", "16",
                 "--scheduler", scheduler, "--no-progress"], capsys)


@pytest.mark.parametrize(("pixmap", "words"), [
    (OFF, "the exposure does not overlap the mosaic"),
    (EDGE, "only 0.5% of the exposure's pixels fall on the mosaic (10 of 2000)"),
])
def test_blot_warns_in_one_line_and_exits_0(mosaic, tmp_path, scheduler, capsys, pixmap, words):
    status, out, err = _blot(mosaic, pixmap, tmp_path / "out.zarr", scheduler, capsys)
    assert status == 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tileblot: warning: ") and words in lines[0]
    assert "wrote" in out


def test_info_shows_the_fraction_in_text_and_json(mosaic, tmp_path, scheduler, capsys):
    out_zarr = tmp_path / "half.zarr"
    status, _, err = _blot(mosaic, HALF, out_zarr, scheduler, capsys)
    assert status == 0 and err == ""  # 50% on the mosaic: no warning
    status, out, _ = run_cli(["info", out_zarr], capsys)
    assert status == 0
    assert "on mosaic:  50% of the exposure's pixels (1000 of 2000)" in out
    status, out, _ = run_cli(["info", out_zarr, "--json"], capsys)
    coverage = json.loads(out)["coverage"]
    assert (coverage["onimage"], coverage["pixels"]) == numpy_fraction(HALF)
    assert coverage["fraction"] == 0.5 and coverage["partial"] is False
    # A store with a tile not done: the fraction of the tiles done so far, saying so.
    zarr.open_group(out_zarr, mode="r+")[DONE][0, 0] = 0  # its record is gone
    status, out, _ = run_cli(["info", out_zarr], capsys)
    # Tile (0, 0) (16 x 16) lies on the mosaic: 1000 - 256 of the 2000 - 256 pixels left.
    assert "on mosaic:  42.7% of the exposure's pixels (744 of 1744), in the 11 tiles done so far" \
        in out
    coverage = json.loads(run_cli(["info", out_zarr, "--json"], capsys)[1])["coverage"]
    assert coverage["partial"] is True and coverage["tiles_counted"] == 11
