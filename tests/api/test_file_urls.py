"""``file://`` outputs in Python: the store the path names, however spelled."""

import numpy as np
import pytest
import zarr

import tileblot
from tests.helpers import affine_pixmap
from tileblot._io._store import DONE


def test_blot_to_zarr_writes_and_resumes_a_file_url(rng, tmp_path):
    data = rng.normal(size=(50, 60)).astype(np.float32)
    pixmap = affine_pixmap((30, 40), angle=0.1, shift=(4.0, 5.0))
    path = tmp_path / "out.zarr"
    url = path.as_uri()
    image = tileblot.blot_to_zarr(data, pixmap, url, interp="linear", chunks=10, progress=False)
    expected = tileblot.blot_image(data, pixmap, interp="linear", precision="high")
    np.testing.assert_array_equal(image[...], expected)
    # The URL and the path are one store: the path sees the tiles, and is refused as taken.
    assert tileblot.open_output(path).complete and tileblot.open_output(url).complete
    with pytest.raises(ValueError, match="already exists"):
        tileblot.blot_to_zarr(data, pixmap, path, interp="linear", chunks=10, progress=False)
    with pytest.raises(ValueError, match="stores 1 and 2 are the same output"):
        tileblot.blot_to_zarr(data, [pixmap, pixmap], [path, url], interp="linear", chunks=10,
                              overwrite=True, progress=False)
    zarr.open_group(path, mode="r+")[DONE][1, 2] = 0
    image = tileblot.blot_to_zarr(data, pixmap, url, interp="linear", resume=True,
                                  progress=False)
    np.testing.assert_array_equal(image[...], expected)
    assert tileblot.open_output(path).record["tiles_done"] == 12


def test_percent_encoded_file_urls_name_the_same_files(rng, tmp_path):
    """RFC 8089: ``Path.as_uri()`` encodes a space or a non-ASCII letter; the URL names the
    file, not a directory called ``%C3%BC%20...`` next to it."""
    data = rng.normal(size=(50, 60)).astype(np.float32)
    pixmap = affine_pixmap((30, 40), angle=0.1, shift=(4.0, 5.0))
    mosaic, path = tmp_path / "mosaïc in.zarr", tmp_path / "ü n.zarr"
    zarr.create_array(mosaic, data=data, chunks=(25, 30))
    assert "%20" in path.as_uri() and "%C3%BC" in path.as_uri()
    tileblot.blot_to_zarr(mosaic.as_uri(), pixmap, path.as_uri(), chunks=10, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mosaïc in.zarr", "ü n.zarr"]
    with pytest.raises(ValueError, match="already exists"):
        tileblot.blot_to_zarr(data, pixmap, path, chunks=10, progress=False)
    local = f"file://localhost{path.as_uri()[len('file://'):]}"
    assert tileblot.open_output(local).complete
