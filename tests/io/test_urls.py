"""Locations: local paths and ``file://`` are one thing, URLs go through fsspec, and a
missing fsspec backend is named with the package (and extra) that installs it."""

import importlib.util
import os
import pickle
import re
import sys
import tomllib
import uuid
from pathlib import Path

import fsspec
import numpy as np
import pytest
import zarr

from tileblot._io import _urls
from tileblot._io._files import FitsImage, MemmapFile
from tileblot._io._locations import check_writable
from tileblot._io._sources import open_path

fits = pytest.importorskip("astropy.io.fits")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def memory_url():
    """A fresh ``memory://`` prefix, removed afterwards (fsspec's memory is process-wide)."""
    prefix = f"memory://tileblot-{uuid.uuid4().hex}"
    yield prefix
    fs = fsspec.filesystem("memory")
    if fs.exists(prefix):
        fs.rm(prefix, recursive=True)


@pytest.mark.parametrize(
    ("location", "protocol"),
    [
        ("mosaic.zarr", "file"),
        (Path("a/b.fits"), "file"),
        ("/abs/out.zarr", "file"),
        ("file:///abs/out.zarr", "file"),
        ("local:///abs/out.zarr", "file"),
        ("s3://bucket/out.zarr", "s3"),
        ("gs://bucket/mosaic.zarr", "gs"),
        ("memory://x.zarr", "memory"),
    ],
)
def test_protocol_of_paths_and_urls(location, protocol):
    assert _urls.protocol(location) == protocol
    assert _urls.is_local(location) == (protocol == "file")


def test_local_spellings_are_one_absolute_location(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real.zarr").mkdir()
    (tmp_path / "link.zarr").symlink_to(tmp_path / "real.zarr")
    spellings = ["real.zarr", tmp_path / "real.zarr", f"file://{tmp_path}/real.zarr",
                 "./link.zarr"]
    assert _urls.local_path("real.zarr") == tmp_path / "real.zarr"
    assert _urls.local_path(f"file://{tmp_path}/link.zarr") == tmp_path / "link.zarr"
    urls = {_urls.location_url(s) for s in spellings}
    assert urls == {(tmp_path / "real.zarr").resolve().as_uri()}
    assert _urls.location_url("s3://bucket/key.zarr") == "s3://bucket/key.zarr"
    with pytest.raises(ValueError, match="not a local path"):
        _urls.local_path("s3://bucket/key.zarr")


def test_dot_dot_after_a_link_goes_up_from_its_target_as_the_system_does(tmp_path, monkeypatch):
    """``link/../x``: the system's ``x`` is beside the link's target; shortened as text, the
    path named the ``x`` beside the link, and a job read another mosaic without a word."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real" / "sub")
    assert _urls.local_path("link/../m.zarr") == tmp_path / "real" / "m.zarr"
    assert _urls.local_path(f"file://{tmp_path}/link/../m.zarr") == tmp_path / "real" / "m.zarr"
    assert _urls.local_path("link/..") == tmp_path / "real"
    assert _urls.local_path("link") == tmp_path / "link"  # the last name as given
    assert _urls.location_url("link/../m.zarr") == (tmp_path / "real" / "m.zarr").as_uri()
    # Where the system cannot go up (a dangling link, a file), the ".." stays: every use
    # fails as the system's does, and nothing is made at the dangling link's target.
    (tmp_path / "dangling").symlink_to(tmp_path / "gone" / "deeper")
    (tmp_path / "afile").write_text("")
    for spelling in ("dangling/../x.zarr", "afile/../x.zarr"):
        assert _urls.local_path(spelling) == tmp_path / spelling
    with pytest.raises(ValueError, match=r"'.*dangling' is a symbolic link to .*gone/deeper'"):
        check_writable("dangling/../x.zarr")
    with pytest.raises(ValueError, match=r"'.*afile' is a file, not a directory"):
        check_writable("afile/../x.zarr")
    assert not (tmp_path / "gone").exists()


def test_a_missing_backend_names_the_package_to_install(monkeypatch):
    registry = sys.modules["fsspec.registry"]
    monkeypatch.setitem(registry.known_implementations, "fakefs",
                        {"class": "fakefs_not_installed.FakeFileSystem",
                         "err": "Install fakefs_not_installed to access fake storage"})
    with pytest.raises(ValueError, match=(
        r"data: 'fakefs://b/m.zarr' needs the fsspec backend for fakefs:// that "
        r"fakefs_not_installed provides: pip install fakefs_not_installed \(Install")):
        open_path("fakefs://b/m.zarr", what="data")
    with pytest.raises(ValueError, match="protocol fsspec does not know: 'nosuchfs'"):
        open_path("nosuchfs://b/m.zarr", what="pixmap")


def test_gcs_without_gcsfs_says_pip_install_gcsfs():
    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed here")
    with pytest.raises(ValueError, match=r"'gs://b/m.zarr' needs .* pip install gcsfs"):
        open_path("gs://b/m.zarr", what="data")


def _requirements(extra, extras):
    """The distributions an extra installs, following ``tileblot[...]`` references."""
    names = set()
    for requirement in extras[extra]:
        name = re.split(r"[<>=!~ ;]", requirement, maxsplit=1)[0]
        if name.startswith("tileblot["):
            for sub in name[len("tileblot["):-1].split(","):
                names |= _requirements(sub, extras)
        else:
            names.add(name.split("[")[0])
    return names


def test_the_s3_message_names_an_extra_that_installs_the_package():
    message = _urls.missing_backend("s3")
    assert "pip install s3fs" in message and "pip install 'tileblot[s3]'" in message
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert "s3fs" in _requirements("s3", extras)
    assert "s3fs" in _requirements("all", extras)  # the old message's 'tileblot[all]' too
    assert {"s3fs", "moto", "gwcs"} <= _requirements("test", extras)


@pytest.mark.parametrize("options", [["key"], {1: "x"}, "anon=true"])
def test_storage_options_must_be_a_mapping_of_names(options):
    with pytest.raises(TypeError, match="mapping of option names"):
        _urls.check_storage_options(options)
    assert _urls.check_storage_options(None) == {}


def test_storage_options_need_a_url_to_apply_to():
    options = {"anon": True}
    # One mapping for every URL of a call; local paths and arrays among them do not use it.
    assert _urls.check_options_apply(options, "s3://b/m.zarr", "local.npy", np.zeros(2)) == options
    for arguments in [("out.zarr",), ("file:///x.zarr", np.zeros(3)), ()]:
        with pytest.raises(ValueError, match=r"apply to URLs .* no input or output"):
            _urls.check_options_apply(options, *arguments)
    assert _urls.check_options_apply(None, "out.zarr") == {}


def test_every_input_kind_opens_through_file_urls(tmp_path, rng):
    data = rng.normal(size=(30, 40)).astype(np.float32)
    np.save(tmp_path / "d.npy", data)
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI")]).writeto(tmp_path / "d.fits")
    zarr.create_array(tmp_path / "d.zarr", data=data, chunks=(16, 16))
    for name in ("d.npy", "d.fits", "d.fits[SCI]", "d.fits[1]", "d.zarr"):
        by_path = open_path(tmp_path / name, what="data")
        by_url = open_path(f"file://{tmp_path}/{name}", what="data")
        assert type(by_url) is type(by_path)
        np.testing.assert_array_equal(by_url[3:9, 5:30], data[3:9, 5:30])
    assert isinstance(open_path(f"file://{tmp_path}/d.npy", what="d"), MemmapFile)
    with pytest.raises(ValueError, match=r"no such file or zarr store 'file:///nowhere/x\.zarr'"):
        open_path("file:///nowhere/x.zarr", what="data")


def test_relative_paths_become_absolute_sources(tmp_path, rng, monkeypatch):
    # A worker elsewhere, or a resume from another directory, must read the same file.
    data = rng.normal(size=(8, 9))
    np.save(tmp_path / "d.npy", data)
    fits.PrimaryHDU(data).writeto(tmp_path / "d.fits")
    monkeypatch.chdir(tmp_path)
    assert open_path("d.npy", what="data").filename == str(tmp_path / "d.npy")
    assert open_path("d.fits", what="data").path == str(tmp_path / "d.fits")


def test_zarr_and_fits_sources_from_an_fsspec_url(memory_url, rng):
    data = rng.normal(size=(50, 60)).astype(np.float32)
    store = _urls.zarr_store(f"{memory_url}/m.zarr", read_only=False, what="test")
    zarr.create_array(store, data=data, chunks=(16, 16))
    with fsspec.open(f"{memory_url}/m.fits", "wb") as f:
        fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI")]).writeto(f)

    array = open_path(f"{memory_url}/m.zarr", what="data")
    assert isinstance(array, zarr.Array) and array.read_only
    np.testing.assert_array_equal(array[10:20, 5:50], data[10:20, 5:50])
    image = open_path(f"{memory_url}/m.fits[SCI]", what="data")
    assert isinstance(image, FitsImage) and image.shape == (50, 60)
    clone = pickle.loads(pickle.dumps(image))  # reopens through fsspec on a worker
    np.testing.assert_array_equal(clone[10:20, 5:50], data[10:20, 5:50])

    with pytest.raises(ValueError, match="no such FITS file"):
        open_path(f"{memory_url}/missing.fits", what="data")
    with pytest.raises(ValueError, match="no such zarr store"):
        open_path(f"{memory_url}/missing.zarr", what="data")
    with pytest.raises(ValueError, match=r"\.npy file must be local"):
        open_path(f"{memory_url}/p.npy", what="pixmap")


def test_zarr_store_is_local_for_paths_and_file_urls(tmp_path):
    for location in (tmp_path / "a.zarr", f"file://{tmp_path}/b.zarr"):
        store = _urls.zarr_store(location, read_only=False, what="output")
        assert isinstance(store, zarr.storage.LocalStore)
        zarr.create_array(store, shape=(2, 2), dtype="f4")
    assert sorted(os.listdir(tmp_path)) == ["a.zarr", "b.zarr"]


def test_a_local_store_object_with_a_relative_root_is_made_absolute(tmp_path, monkeypatch):
    """A worker started in another folder wrote its tiles there (the job then found none)."""
    monkeypatch.chdir(tmp_path)
    store = _urls.output_store(zarr.storage.LocalStore("rel.zarr"))
    assert isinstance(store, zarr.storage.LocalStore)
    assert Path(store.root) == tmp_path / "rel.zarr"
    absolute = zarr.storage.LocalStore(tmp_path / "abs.zarr")
    assert _urls.output_store(absolute) is absolute  # as given
