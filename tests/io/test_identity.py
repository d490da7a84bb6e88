"""Input identity: the same input however spelled or opened, never a changed one."""

import os
import time

import dask.array as da
import numpy as np
import pytest
import zarr

from tileblot._io import _identity
from tileblot._io._identity import difference, identify, token_of
from tileblot._io._sources import as_source


def _zarr(path, data, chunks=(5, 5)):
    zarr.create_array(path, shape=data.shape, chunks=chunks, dtype=data.dtype)[...] = data
    return path


def _touch_later(path):
    # Modification times have a resolution: make sure a rewrite is seen as later.
    stamp = time.time() + 2
    os.utime(path, (stamp, stamp))


def test_zarr_identity_ignores_spelling_and_mode(tmp_path, rng, monkeypatch):
    _zarr(tmp_path / "m.zarr", rng.normal(size=(10, 10)).astype(np.float32))
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    spellings = [
        as_source("m.zarr", what="data"),
        as_source(str(tmp_path / "m.zarr"), what="data"),
        as_source(str(tmp_path / "sub" / ".." / "m.zarr"), what="data"),
        zarr.open_array(tmp_path / "m.zarr", mode="a"),
        zarr.open_array(tmp_path / "m.zarr", mode="r"),
    ]
    identities = [identify(s) for s in spellings]
    assert all(i == identities[0] for i in identities)
    assert identities[0]["location"] == (tmp_path / "m.zarr").resolve().as_uri()
    assert identities[0]["metadata"]["chunks"] == [5, 5]
    assert token_of(identities[0]) == token_of(identities[-1])


def test_zarr_array_in_a_group_is_one_location(tmp_path):
    group = zarr.open_group(tmp_path / "g.zarr", mode="w")
    group.create_array("image", shape=(4, 4), chunks=(2, 2), dtype="f4")
    by_path = identify(zarr.open_array(tmp_path / "g.zarr" / "image", mode="r"))
    by_group = identify(zarr.open_group(tmp_path / "g.zarr", mode="r")["image"])
    assert by_path["location"] == by_group["location"]


def test_same_relative_name_in_another_directory_is_another_input(tmp_path, rng, monkeypatch):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        _zarr(tmp_path / name / "mosaic.zarr", rng.normal(size=(10, 10)))
    monkeypatch.chdir(tmp_path / "a")
    first = identify(as_source("mosaic.zarr", what="data"))
    monkeypatch.chdir(tmp_path / "b")
    second = identify(as_source("mosaic.zarr", what="data"))
    reason = difference("data", first, second)
    assert reason and "another input" in reason
    assert str(tmp_path / "a") in reason and str(tmp_path / "b") in reason


def test_zarr_rewritten_in_place_is_modified(tmp_path, rng):
    path = _zarr(tmp_path / "m.zarr", rng.normal(size=(10, 10)))
    before = identify(as_source(str(path), what="data"))
    zarr.open_array(path, mode="r+")[0:5, 0:5] = 7.0
    for chunk in path.rglob("c/*/*"):
        _touch_later(chunk)
    after = identify(as_source(str(path), what="data"))
    assert difference("data", before, after) == "data was modified since the job started"


def test_another_dask_graph_is_named_as_such():
    """It was "pixmap was modified since the job started", which sent users looking for a
    changed file when the same WCSs gave another graph name (another tileblot version)."""
    import dask.array as da

    pixmap = np.zeros((6, 6, 2))
    before = identify(da.from_array(pixmap, chunks=3))
    after = identify(da.from_array(pixmap + 1, chunks=3))
    assert difference("pixmap", before, after) == (
        f"pixmap is another dask computation: its graph was named {before['stamp']['name']!r}, "
        f"it is {after['stamp']['name']!r} now. A dask array is known by that name alone, "
        "which changes with its inputs, with how it is built (its chunks), and between "
        "tileblot versions for a WCS pixmap")


def test_npy_rewritten_in_place_is_modified(tmp_path, rng):
    path = tmp_path / "pixmap.npy"
    np.save(path, rng.normal(size=(6, 6, 2)))
    before = identify(as_source(str(path), what="pixmap"))
    np.save(path, rng.normal(size=(6, 6, 2)))
    _touch_later(path)
    after = identify(as_source(str(path), what="pixmap"))
    assert difference("pixmap", before, after) == "pixmap was modified since the job started"
    assert before["location"] == after["location"] == path.resolve().as_uri()


def test_in_memory_arrays_are_recognised_by_content(rng):
    data = rng.normal(size=(10, 10))
    assert identify(data) == identify(data.copy())
    reason = difference("data", identify(data), identify(data + 1))
    assert reason == "data was modified since the job started"


def test_metadata_changes_are_named(tmp_path, rng):
    data = rng.normal(size=(10, 10)).astype(np.float32)
    a = identify(zarr.open_array(_zarr(tmp_path / "a.zarr", data), mode="r"))
    # Same location, another chunking: the message names the field, then and now.
    import shutil

    shutil.rmtree(tmp_path / "a.zarr")
    b = identify(zarr.open_array(_zarr(tmp_path / "a.zarr", data, chunks=(2, 2)), mode="r"))
    reason = difference("data", a, b)
    assert reason.startswith("data differs from the one the job started with: chunks")
    assert "[5, 5] then, [2, 2] now" in reason


def test_dask_arrays_are_their_graph(rng):
    data = rng.normal(size=(10, 10))
    lazy = da.from_array(data, chunks=5)
    assert identify(lazy)["stamp"] == {"name": lazy.name}
    assert identify(lazy) == identify(da.from_array(data.copy(), chunks=5))


@pytest.mark.parametrize("what", ["data", "pixmap"])
def test_identity_round_trips_through_json(what, tmp_path, rng):
    import json

    ident = identify(as_source(str(_zarr(tmp_path / "m.zarr", rng.normal(size=(8, 8)))),
                               what=what))
    assert difference(what, json.loads(json.dumps(ident)), ident) is None


def test_content_digest_is_the_values_not_the_layout(rng):
    data = rng.normal(size=(6, 7))
    fortran = np.asfortranarray(data)
    assert identify(fortran)["stamp"] == identify(data)["stamp"]
    # A strided view and its copy are the same values.
    assert identify(data[:, ::2])["stamp"] == identify(data[:, ::2].copy())["stamp"]
    # Same bytes, another dtype or shape: another input.
    assert identify(data.view(np.int64))["stamp"] != identify(data)["stamp"]
    assert identify(data.reshape(7, 6))["stamp"] != identify(data)["stamp"]
    # One value changed, by the least amount, anywhere.
    nudged = data.copy()
    nudged[5, 6] = np.nextafter(nudged[5, 6], np.inf)
    assert identify(nudged)["stamp"] != identify(data)["stamp"]
    assert identify(data)["stamp"]["content"].startswith("xxh3_128:")


def test_a_stamp_hashed_otherwise_is_named_as_such(rng):
    data = rng.normal(size=(4, 4))
    recorded = identify(data)
    recorded["stamp"] = {"content": "0123456789abcdef0123456789abcdef"}  # dask's tokenize
    reason = difference("data", recorded, identify(data))
    assert reason.startswith("data was recorded by another tileblot version, which hashed "
                             "arrays in memory with dask tokenize (this one uses xxh3_128)")


def test_a_non_contiguous_array_is_hashed_a_block_of_rows_at_a_time(rng, monkeypatch):
    data = rng.normal(size=(50, 9, 2))
    strided = data[::2, ::3]
    whole = _identity.content_hash(np.ascontiguousarray(strided))
    # Blocks of one row and of several rows (the last one short) give the same digest.
    for block in (1, 7 * strided[0].nbytes, strided.nbytes):
        monkeypatch.setattr(_identity, "_HASH_BLOCK", block)
        assert _identity.content_hash(strided) == whole
    assert _identity.content_hash(np.asfortranarray(data)) == _identity.content_hash(data)
