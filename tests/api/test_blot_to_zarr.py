"""Streaming into zarr: one chunk per tile, records, refusal, resume, many exposures."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
import zarr

import tileblot
from tests.helpers import RecordingSource, SlowSource, affine_pixmap
from tileblot._io import _lock
from tileblot._io._store import DONE, IMAGE, describe, open_root, take_output


@pytest.fixture
def scene(rng):
    data = rng.normal(size=(80, 100)).astype(np.float32)
    pixmap = affine_pixmap((60, 70), scale=1.2, angle=-0.2, shift=(5.0, 12.0))
    return data, pixmap


def test_writes_the_blot_tile_by_tile(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    image = tileblot.blot_to_zarr(data, pixmap, store, interp="lan3", fillval=np.nan,
                                  chunks=(16, 32), progress=False)
    expected = tileblot.blot_image(data, pixmap, interp="lan3", fillval=np.nan, precision="high")
    assert isinstance(image, zarr.Array)
    assert image.chunks == (16, 32)
    np.testing.assert_array_equal(image[...], expected)
    reopened = zarr.open_group(store, mode="r")
    np.testing.assert_array_equal(reopened[IMAGE][...], expected)
    assert reopened[DONE][...].all()
    info = describe(store)
    assert info["complete"] and info["tiles"] == 4 * 3
    assert info["params"] == {"interp": "lan3", "fillval": info["params"]["fillval"],
                              "iscale": 1.0, "precision": "high", "options": {}}
    assert np.isnan(info["params"]["fillval"])
    assert info["data"]["metadata"]["shape"] == [80, 100]
    assert info["version"] == tileblot.__version__
    assert reopened[IMAGE].attrs["tileblot"]["shape"] == [60, 70]


def test_refuses_to_clobber(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, chunks=32, progress=False)
    with pytest.raises(ValueError, match="already exists"):
        tileblot.blot_to_zarr(data, pixmap, store, chunks=32, progress=False)
    with pytest.raises(ValueError, match="not both"):
        tileblot.blot_to_zarr(data, pixmap, store, overwrite=True, resume=True, progress=False)
    image = tileblot.blot_to_zarr(data, pixmap, store, interp="linear", chunks=32,
                                  overwrite=True, progress=False)
    np.testing.assert_array_equal(
        image[...], tileblot.blot_image(data, pixmap, interp="linear", precision="high"))


def test_overwrite_never_deletes_foreign_directories(scene, tmp_path):
    data, pixmap = scene
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("...")
    with pytest.raises(ValueError, match="not a tileblot output"):
        tileblot.blot_to_zarr(data, pixmap, precious, overwrite=True, progress=False)
    assert (precious / "chapter1.tex").exists()


def test_resume_skips_completed_tiles(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(RecordingSource(data), pixmap, store, chunks=20, progress=False)
    expected = zarr.open_group(store)[IMAGE][...]
    # Simulate an interrupted job: two tiles lost their records and their data
    # is garbage (a tile counts only once its record is written).
    group = zarr.open_group(store, mode="r+")
    group[DONE][1, 2] = 0
    group[DONE][2, 0] = 0
    group[IMAGE][20:40, 40:60] = 1e30
    group[IMAGE][40:60, 0:20] = -1e30
    source = RecordingSource(data)
    image = tileblot.blot_to_zarr(source, pixmap, store, chunks=20, resume=True, progress=False)
    np.testing.assert_array_equal(image[...], expected)
    assert describe(store)["complete"]
    # Only the two unfinished tiles were computed (one window read each).
    assert len(source.reads) == 2


def test_resume_refuses_other_parameters_or_inputs(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, chunks=20, progress=False)
    with pytest.raises(ValueError, match=r"other parameters \(interp=poly5 then, linear now"):
        tileblot.blot_to_zarr(data, pixmap, store, chunks=20, interp="linear", resume=True,
                              progress=False)
    with pytest.raises(ValueError, match="tile size differs: the job started with 20 x 20"):
        tileblot.blot_to_zarr(data, pixmap, store, chunks=30, resume=True, progress=False)
    # "auto" chose a tiling once; a resume with it keeps that one, as without chunks.
    tileblot.blot_to_zarr(data, pixmap, store, chunks="auto", resume=True, progress=False)
    # Compared with "auto" only as a string: an array of chunks is named, not numpy's error.
    with pytest.raises(ValueError, match="chunks must be an int, a pair"):
        tileblot.blot_to_zarr(data, pixmap, store, chunks=np.array([20, 20]), resume=True,
                              progress=False)
    with pytest.raises(ValueError, match="data was modified since the job started"):
        tileblot.blot_to_zarr(data + 1, pixmap, store, chunks=20, resume=True, progress=False)
    with pytest.raises(ValueError, match="pixmap was modified since the job started"):
        tileblot.blot_to_zarr(data, pixmap + 0.5, store, chunks=20, resume=True, progress=False)


def test_many_exposures_in_one_job(scene, tmp_path):
    data, _ = scene
    pixmaps = [affine_pixmap((40, 50), angle=a, shift=(10.0 + a, 8.0)) for a in (0.0, 0.4, -0.5)]
    stores = [tmp_path / f"exposure{k}.zarr" for k in range(3)]
    images = tileblot.blot_to_zarr(data, pixmaps, stores, interp="poly3", chunks=16,
                                   progress=False)
    assert len(images) == 3
    for image, pixmap in zip(images, pixmaps, strict=True):
        np.testing.assert_array_equal(
            image[...], tileblot.blot_image(data, pixmap, interp="poly3", precision="high"))
    with pytest.raises(ValueError, match="same length"):
        tileblot.blot_to_zarr(data, pixmaps[:2], stores, progress=False)


def test_a_refused_exposure_of_many_is_named_and_no_store_is_written(scene, tmp_path):
    data, _ = scene
    pixmaps = [affine_pixmap((40, 50), angle=a, shift=(10.0 + a, 8.0)) for a in (0.0, 0.4, -0.5)]
    stores = [tmp_path / f"exposure{k}.zarr" for k in range(3)]
    bad = [pixmaps[0], pixmaps[1][..., :1], pixmaps[2]]
    with pytest.raises(ValueError, match=r"^exposure 2 of 3 \(output .*exposure1\.zarr'\): "
                                         r"pixmap must have shape"):
        tileblot.blot_to_zarr(data, bad, stores, chunks=16, progress=False)
    with pytest.raises(TypeError, match=r"^exposure 3 of 3 \(output .*exposure2\.zarr'\): "):
        tileblot.blot_to_zarr(data, [*pixmaps[:2], b"not a pixmap"], stores, chunks=16,
                              progress=False)
    assert not any(store.exists() for store in stores)
    tileblot.blot_to_zarr(data, pixmaps[1], stores[1], chunks=16, progress=False)
    with pytest.raises(ValueError, match=r"^exposure 2 of 3 \(output .*exposure1\.zarr'\): "
                                         r".*already exists"):
        tileblot.blot_to_zarr(data, pixmaps, stores, chunks=16, progress=False)
    assert not stores[0].exists() and not stores[2].exists()
    # Arguments all exposures share are named as they are.
    with pytest.raises(ValueError, match=r"^unknown interp .bogus."):
        tileblot.blot_to_zarr(data, pixmaps, stores, interp="bogus", progress=False)
    with pytest.raises(ValueError, match=r"^data must be 2-D"):
        tileblot.blot_to_zarr(data[None], pixmaps, stores, progress=False)
    # One exposure: the message is as it always was.
    with pytest.raises(ValueError, match=r"^pixmap must have shape"):
        tileblot.blot_to_zarr(data, bad[1], stores[0], chunks=16, progress=False)


def test_progress_bar_on_local_scheduler(scene, tmp_path, capsys):
    data, pixmap = scene
    tileblot.blot_to_zarr(data, pixmap, tmp_path / "out.zarr", chunks=20, progress=True)
    assert "100% Completed" in capsys.readouterr().out


def test_fill_only_tiles_and_memory_store(rng):
    data = rng.normal(size=(30, 30)).astype(np.float32)
    pixmap = affine_pixmap((40, 40), shift=(-20.0, 0.0))
    store = zarr.storage.MemoryStore()
    image = tileblot.blot_to_zarr(data, pixmap, store, interp="nearest", fillval=-5,
                                  chunks=10, progress=False)
    expected = tileblot.blot_image(data, pixmap, interp="nearest", fillval=-5)
    np.testing.assert_array_equal(image[...], expected)
    assert (image[:, :10] == -5).all()


def test_url_stores_are_refused_and_resumed_like_paths(scene):
    data, pixmap = scene
    url = f"memory://tileblot-test-{id(scene)}"
    tileblot.blot_to_zarr(data, pixmap, url, chunks=32, progress=False)
    with pytest.raises(ValueError, match="already exists"):
        tileblot.blot_to_zarr(data, pixmap, url, chunks=32, progress=False)
    image = tileblot.blot_to_zarr(data, pixmap, url, chunks=32, resume=True, progress=False)
    np.testing.assert_array_equal(image[...], tileblot.blot_image(data, pixmap, precision="high"))


def _interrupted_job(data, pixmap, store, **kwargs):
    """A finished job with one tile's record removed: what resume must finish."""
    tileblot.blot_to_zarr(data, pixmap, store, progress=False, **kwargs)
    zarr.open_group(store, mode="r+")[DONE][0, 0] = 0


def _zarr_inputs(folder, data, pixmap):
    folder.mkdir()
    zarr.create_array(folder / "mosaic.zarr", data=data, chunks=(32, 32))
    np.save(folder / "pixmap.npy", pixmap)


def test_resume_finishes_a_store_another_tileblot_started(tmp_path):
    """A store started by another version, or by one that recorded the WCS or the unit
    otherwise, is resumed and passes the final check (which once compared it with a record
    made anew, and failed it as 'rewritten by another job' after all the work)."""
    fits = pytest.importorskip("astropy.io.fits")
    data = np.random.default_rng(3).normal(size=(60, 60)).astype(np.float32)
    fits.PrimaryHDU(data, header=fits.Header({"BUNIT": "MJy/sr"})).writeto(tmp_path / "m.fits")
    y, x = np.mgrid[0:40, 0:40]
    pixmap = np.dstack([x + 5.0, y + 5.0])
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(str(tmp_path / "m.fits"), pixmap, store, chunks=16, progress=False)
    group = zarr.open_group(store, mode="r+")
    for node in (group, group[IMAGE]):
        record = dict(node.attrs["tileblot"])
        record.pop("unit")  # as a tileblot that did not record it wrote the store
        record["version"] = "0.0.9"
        node.attrs["tileblot"] = record
    group[DONE][0, 0] = 0
    image = tileblot.blot_to_zarr(str(tmp_path / "m.fits"), pixmap, store, chunks=16,
                                  resume=True, progress=False)
    np.testing.assert_array_equal(image[...], tileblot.blot_image(data, pixmap,
                                                                  precision="high"))
    output = tileblot.open_output(store)
    assert output.complete and output.record["version"] == "0.0.9"


def test_resume_from_another_directory_refuses_another_mosaic(scene, tmp_path, monkeypatch):
    data, pixmap = scene
    _zarr_inputs(tmp_path / "a", data, pixmap)
    _zarr_inputs(tmp_path / "b", data + 1, pixmap)
    store = tmp_path / "out.zarr"
    monkeypatch.chdir(tmp_path / "a")
    _interrupted_job("mosaic.zarr", "pixmap.npy", store, chunks=20)
    monkeypatch.chdir(tmp_path / "b")
    with pytest.raises(ValueError, match="data is another input: the job started with file://"):
        tileblot.blot_to_zarr("mosaic.zarr", "pixmap.npy", store, resume=True, progress=False)


def test_resume_accepts_the_same_inputs_however_spelled(scene, tmp_path, monkeypatch):
    data, pixmap = scene
    _zarr_inputs(tmp_path / "a", data, pixmap)
    zarr.create_array(tmp_path / "a" / "pixmap.zarr", data=pixmap, chunks=(20, 20, 2))
    store = tmp_path / "out.zarr"
    monkeypatch.chdir(tmp_path / "a")
    pm = zarr.open_array("pixmap.zarr", mode="r")
    _interrupted_job("mosaic.zarr", pm, store)
    # Absolute paths, another open mode, and no chunks (the store's tiling is reused).
    image = tileblot.blot_to_zarr(str(tmp_path / "a" / "mosaic.zarr"),
                                  zarr.open_array(tmp_path / "a" / "pixmap.zarr", mode="a"),
                                  store, resume=True, progress=False)
    assert image.chunks == (20, 20)
    np.testing.assert_array_equal(image[...], tileblot.blot_image(data, pixmap, precision="high"))


@pytest.mark.parametrize("rewritten", ["mosaic.zarr", "pixmap.npy"])
def test_resume_refuses_inputs_rewritten_in_place(scene, tmp_path, rewritten):
    import os
    import time

    data, pixmap = scene
    _zarr_inputs(tmp_path / "a", data, pixmap)
    mosaic, pm = tmp_path / "a" / "mosaic.zarr", tmp_path / "a" / "pixmap.npy"
    store = tmp_path / "out.zarr"
    _interrupted_job(mosaic, pm, store, chunks=20)
    if rewritten == "mosaic.zarr":
        zarr.open_array(mosaic, mode="r+")[0:32, 0:32] = 5.0
        touched = [p for p in mosaic.rglob("*") if p.is_file() and p.parent.name == "0"]
    else:
        np.save(pm, pixmap + 0.25)
        touched = [pm]
    later = time.time() + 5  # beyond any file system's timestamp resolution
    for path in touched:
        os.utime(path, (later, later))
    what = "data" if rewritten == "mosaic.zarr" else "pixmap"
    with pytest.raises(ValueError, match=f"{what} was modified since the job started"):
        tileblot.blot_to_zarr(mosaic, pm, store, resume=True, progress=False)


def test_resume_on_a_missing_store_starts_the_job(tmp_path, rng):
    # The README's first example passes resume=True for a job that never ran.
    data = rng.normal(size=(30, 30)).astype(np.float32)
    y, x = np.mgrid[0:20, 0:24].astype(np.float64)
    pixmap = np.dstack([x + 2.5, y + 3.25])
    image = tileblot.blot_to_zarr(data, pixmap, tmp_path / "new.zarr", chunks=8, resume=True,
                                  progress=False)
    np.testing.assert_array_equal(image[...], tileblot.blot_image(data, pixmap,
                                                                  precision="high"))
    again = tileblot.blot_to_zarr(data, pixmap, tmp_path / "new.zarr", chunks=8, resume=True,
                                  progress=False)  # complete: nothing to do, still the same
    np.testing.assert_array_equal(again[...], image[...])


def _dead_job_lock(store):
    """The lock a job killed with SIGKILL leaves: it names a process that is gone."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    lock = store / _lock.LOCK
    lock.mkdir(parents=True, exist_ok=True)
    owner = {**_lock.new_owner(), "pid": proc.pid}
    (lock / "zarr.json").write_text(json.dumps(
        {"zarr_format": 3, "node_type": "group", "attributes": {_lock.LOCK: owner}}))


@pytest.mark.parametrize("left", ["the lock's empty folder", "a dead job's lock",
                                  "the record", "the record and the image's metadata",
                                  "an overwrite's deletions, beside the user's file",
                                  "a dead job's lock, beside the user's file"])
@pytest.mark.parametrize("how", ["resume", "plain", "overwrite"])
def test_a_store_left_by_a_job_killed_while_it_started_is_started_afresh(tmp_path, rng, left,
                                                                          how):
    """Killed between taking its lock and creating its arrays (a SIGTERM early on), a job
    left a store that "--resume" refused as "not a tileblot output" or "damaged", and
    "--overwrite" as "not a tileblot output" too: only rm -rf helped. No tile is ever
    written before the completion records exist: there was nothing to keep."""
    data = rng.normal(size=(30, 30)).astype(np.float32)
    pixmap = affine_pixmap((20, 24), shift=(2.5, 3.25))
    store = tmp_path / "out.zarr"
    if left.startswith("the record"):
        tileblot.blot_to_zarr(data, pixmap, store, chunks=8, progress=False)
        shutil.rmtree(store / DONE)
        if left == "the record":
            shutil.rmtree(store / IMAGE)
        else:
            shutil.rmtree(store / IMAGE / "c")
        _dead_job_lock(store)
    elif left.startswith("an overwrite's"):
        # An overwrite keeps files of the user's, and was stopped after it had deleted the
        # old output's nodes (the lock's folder stays): refused by every flag, and by info.
        tileblot.blot_to_zarr(data, pixmap, store, chunks=8, progress=False)
        for node in (IMAGE, DONE):
            shutil.rmtree(store / node)
        (store / "zarr.json").unlink()
    elif left.startswith("a dead job's lock"):
        _dead_job_lock(store)
    else:
        (store / _lock.LOCK).mkdir(parents=True)
    if left.endswith("the user's file"):
        (store / "notes.txt").write_text("mine")
        with pytest.raises(ValueError, match="holds no tile: its job was stopped as it started"):
            describe(store)
    flags = {"resume": {"resume": True}, "plain": {}, "overwrite": {"overwrite": True}}[how]
    image = tileblot.blot_to_zarr(data, pixmap, store, chunks=8, progress=False, **flags)
    np.testing.assert_array_equal(image[...], tileblot.blot_image(data, pixmap,
                                                                  precision="high"))
    assert describe(store)["complete"] and describe(store)["lock"] is None
    if left.endswith("the user's file"):
        assert (store / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("other", ["a zarr group of another's", "a zarr v2 group of another's",
                                   "a file only"])
def test_a_lock_folder_beside_what_is_not_tileblots_does_not_make_it_an_output(tmp_path, rng,
                                                                              other):
    """A job writes its group at the store's root: never over another's."""
    data = rng.normal(size=(30, 30)).astype(np.float32)
    store = tmp_path / "out.zarr"
    if other.startswith("a zarr"):
        zarr.open_group(store, mode="w", attributes={"owner": "someone"},
                        zarr_format=2 if "v2" in other else 3)
        (store / _lock.LOCK).mkdir()
    else:
        store.mkdir()
        (store / "notes.txt").write_text("mine")
    for flags in ({}, {"resume": True}, {"overwrite": True}):
        with pytest.raises(ValueError, match=r"already exists|not a tileblot output"):
            tileblot.blot_to_zarr(data, affine_pixmap((20, 24)), store, chunks=8,
                                  progress=False, **flags)
    if other.startswith("a zarr"):
        assert dict(zarr.open_group(store, mode="r").attrs) == {"owner": "someone"}


# --------------------------------------------------------------------------- a store you can trust


def test_the_same_output_twice_in_one_call_is_refused_before_writing(scene, tmp_path,
                                                                    monkeypatch):
    data, pixmap = scene
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="same output"):
        tileblot.blot_to_zarr(data, [pixmap, pixmap + 1.0], ["o.zarr", tmp_path / "o.zarr"],
                              overwrite=True, progress=False)
    assert not (tmp_path / "o.zarr").exists()


def test_an_input_inside_the_output_is_refused(scene, tmp_path):
    data, pixmap = scene
    chain = tmp_path / "chain.zarr"
    first = tileblot.blot_to_zarr(data, pixmap, chain, chunks=32, progress=False)[...]
    with pytest.raises(ValueError, match=r"data .* inside the output store"):
        tileblot.blot_to_zarr(f"{chain}/image", pixmap[:20, :20], chain, overwrite=True,
                              progress=False)
    np.testing.assert_array_equal(zarr.open_group(chain, mode="r")[IMAGE][...], first)
    out = tmp_path / "out.zarr"
    out.mkdir()
    np.save(out / "pixmap.npy", pixmap)
    with pytest.raises(ValueError, match=r"pixmap .* inside the output store"):
        tileblot.blot_to_zarr(data, out / "pixmap.npy", out, overwrite=True, progress=False)
    assert (out / "pixmap.npy").exists()
    # Through dask, with no location of its own: the zarr array its graph reads is found (the
    # overwrite deleted the image the tiles then read as fill values, and reported success).
    for lazy in (da.from_zarr(str(chain), component="image"),
                 da.from_array(zarr.open_group(chain, mode="r")[IMAGE], chunks=16) * 2,
                 da.from_array(zarr.open_group(chain, mode="r")[IMAGE], inline_array=True)):
        with pytest.raises(ValueError, match=r"data \(file://.*chain.zarr/image\) lies inside "
                                             r"the output store"):
            tileblot.blot_to_zarr(lazy, pixmap[:20, :20], chain, overwrite=True,
                                  progress=False)
    np.testing.assert_array_equal(zarr.open_group(chain, mode="r")[IMAGE][...], first)


def test_an_output_that_cannot_be_written_is_refused_before_any_work(scene, tmp_path):
    data, pixmap = scene
    (tmp_path / "afile").write_text("not a directory")
    source = RecordingSource(data)
    with pytest.raises(ValueError, match=r"'.*afile' is a file, not a directory"):
        tileblot.blot_to_zarr(source, pixmap, tmp_path / "afile" / "o.zarr", progress=False)
    for flags in ({}, {"resume": True}, {"overwrite": True}):  # resume: NotADirectoryError
        with pytest.raises(ValueError, match=r"'.*afile' is a file, not a directory"):
            tileblot.blot_to_zarr(source, pixmap, tmp_path / "afile", progress=False, **flags)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"'.*dangling' is a symbolic link to '.*nowhere', "
                                         r"which does not exist"):
        tileblot.blot_to_zarr(source, pixmap, tmp_path / "dangling" / "o.zarr", progress=False)
    (tmp_path / "dangling").unlink()
    if os.path.isdir("/proc"):  # no file can be made there, whoever runs the tests
        with pytest.raises(ValueError, match=r"'/proc/o.zarr' cannot be written: .* in '/proc'"):
            tileblot.blot_to_zarr(source, pixmap, "/proc/o.zarr", progress=False)
    assert source.reads == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
    # A new store's directory is probed with a file (then removed); an existing one is not.
    tileblot.blot_to_zarr(data, pixmap, tmp_path / "new" / "o.zarr", chunks=32,
                          progress=False)
    tileblot.blot_to_zarr(data, pixmap, tmp_path / "new" / "o.zarr", chunks=32,
                          resume=True, progress=False)
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["o.zarr"]
    assert not list((tmp_path / "new").rglob(".tileblot-probe-*"))


def test_an_output_inside_another_output_is_refused(scene, tmp_path):
    """Overwriting the outer store would delete the inner one (accepted before, in one call
    or one after the other)."""
    data, pixmap = scene
    outer = tmp_path / "outer.zarr"
    tileblot.blot_to_zarr(data, pixmap, outer, chunks=32, progress=False)
    for inner in (outer / "inner.zarr", outer / IMAGE / "inner.zarr"):
        with pytest.raises(ValueError, match=r"lies inside the tileblot output store "
                                             r"'.*outer.zarr'"):
            tileblot.blot_to_zarr(data, pixmap, inner, chunks=32, progress=False)
        assert not inner.exists()
    a, b = tmp_path / "a.zarr", tmp_path / "a.zarr" / "b.zarr"
    for stores in ([a, b], [b, a]):
        # Counted from 1, as the exposures are.
        with pytest.raises(ValueError, match=r"store 2 \(.*\) lies inside store 1|store 1 "
                                             r"\(.*b.zarr'\) lies inside store 2"):
            tileblot.blot_to_zarr(data, [pixmap, pixmap], stores, chunks=32, progress=False)
        assert not a.exists()


def test_an_output_inside_an_input_is_refused(scene, tmp_path):
    """Its tiles would change the input's change stamp: a resume would then be refused as if
    the mosaic had been modified."""
    data, pixmap = scene
    mosaic = tmp_path / "mosaic.zarr"
    zarr.create_array(mosaic, data=data, chunks=(32, 32))
    pixmaps = tmp_path / "pixmaps"
    pixmaps.mkdir()
    np.save(pixmaps / "pixmap.npy", pixmap)
    for inputs, inside, what in [((mosaic, pixmap), mosaic / "blot.zarr", "data"),
                                 ((data, pixmaps / "pixmap.npy"), pixmaps / "pixmap.npy/o.zarr",
                                  "pixmap")]:
        with pytest.raises(ValueError, match=fr"output store .* lies inside the {what}"):
            tileblot.blot_to_zarr(*inputs, inside, chunks=32, progress=False)
        assert not inside.exists()
    # Beside it is fine, however the directory's name begins.
    tileblot.blot_to_zarr(mosaic, pixmap, tmp_path / "mosaic.zarr-blot", chunks=32,
                          progress=False)


def test_overwrite_keeps_files_tileblot_did_not_write(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, chunks=32, progress=False)
    (store / "README.txt").write_text("my notes on this exposure")
    image = tileblot.blot_to_zarr(data, pixmap, store, interp="linear", chunks=16,
                                  overwrite=True, progress=False)
    assert (store / "README.txt").read_text() == "my notes on this exposure"
    assert image.chunks == (16, 16)
    assert describe(store)["complete"]


def test_a_symlinked_output_is_refused_to_write_and_read_through(scene, tmp_path):
    data, pixmap = scene
    real = tmp_path / "real.zarr"
    tileblot.blot_to_zarr(data, pixmap, real, chunks=32, progress=False)
    link = tmp_path / "link.zarr"
    link.symlink_to(real)
    for kwargs in ({"overwrite": True}, {"resume": True}):
        with pytest.raises(ValueError, match="symbolic link"):
            tileblot.blot_to_zarr(data, pixmap, link, chunks=32, progress=False, **kwargs)
    assert describe(real)["complete"]
    # Read through the link, it is the store it points to; a repair writes, so is refused.
    assert tileblot.open_output(link).complete
    assert tileblot.verify_output(link)["tiles_corrupt"] == []
    (real / "image" / "c" / "0" / "0").unlink()  # recorded, chunk gone: a repair deletes
    with pytest.raises(ValueError, match="symbolic link"):
        tileblot.verify_output(link, repair=True)
    fits = pytest.importorskip("astropy.io.fits")
    with pytest.warns(UserWarning, match="incomplete"):
        tileblot.export_fits(link, tmp_path / "out.fits", allow_incomplete=True)
    assert fits.getdata(tmp_path / "out.fits").shape == pixmap.shape[:2]


def test_a_lost_chunk_is_reported_and_recomputed_on_resume(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    expected = tileblot.blot_to_zarr(RecordingSource(data), pixmap, store, chunks=20,
                                     progress=False)[...]
    (store / IMAGE / "c" / "1" / "2").unlink()
    info = describe(store)
    assert info["tiles_done"] == info["tiles"] - 1 and not info["complete"]
    assert info["tiles_missing_chunk"] == [[1, 2]]
    source = RecordingSource(data)
    image = tileblot.blot_to_zarr(source, pixmap, store, chunks=20, resume=True, progress=False)
    assert len(source.reads) == 1
    np.testing.assert_array_equal(image[...], expected)
    assert describe(store)["complete"]


def test_a_truncated_chunk_is_found_by_verify_and_repaired_by_resume(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    expected = tileblot.blot_to_zarr(RecordingSource(data), pixmap, store, chunks=20,
                                     progress=False)[...]
    chunk = store / IMAGE / "c" / "0" / "1"
    chunk.write_bytes(chunk.read_bytes()[:10])
    assert describe(store)["complete"]  # a listing cannot see inside a chunk
    assert tileblot.verify_output(store)["tiles_corrupt"] == [[0, 1]]
    assert describe(store, verify=True)["tiles_corrupt"] == [[0, 1]]
    source = RecordingSource(data)
    tileblot.blot_to_zarr(source, pixmap, store, chunks=20, resume=True, progress=False)
    assert source.reads == []  # a plain resume trusts the listing
    image = tileblot.blot_to_zarr(source, pixmap, store, chunks=20, resume=True, verify=True,
                                  progress=False)
    assert len(source.reads) == 1
    np.testing.assert_array_equal(image[...], expected)
    assert tileblot.verify_output(store)["tiles_corrupt"] == []


@pytest.mark.parametrize("lost", [["image"], ["tiles_done"], ["image", "tiles_done"]])
def test_a_store_missing_its_image_or_records_is_named_damaged(scene, tmp_path, lost):
    """As an overwrite killed while deleting the old store leaves it: every reader says so
    and points to overwrite (a bare KeyError before, and resume blamed other parameters)."""
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, chunks=20, progress=False)
    for name in lost:
        (store / name / "zarr.json").unlink()
    damaged = fr"'.*out.zarr' is damaged: its {' and '.join(lost)} arrays? (is|are) missing"
    for reader in (lambda: tileblot.open_output(store), lambda: tileblot.verify_output(store),
                   lambda: tileblot.export_fits(store, tmp_path / "out.fits"),
                   lambda: tileblot.blot_to_zarr(data, pixmap, store, chunks=20, resume=True,
                                                 progress=False)):
        with pytest.raises(ValueError, match=damaged + r".*overwrite=True"):
            reader()
    assert not (tmp_path / "out.fits").exists()
    image = tileblot.blot_to_zarr(data, pixmap, store, chunks=20, overwrite=True,
                                  progress=False)
    np.testing.assert_array_equal(image[...], tileblot.blot_image(data, pixmap,
                                                                  precision="high"))



@pytest.mark.parametrize("edit", ["shape", "chunks", "dtype", "records", "record chunks",
                                  "record dtype"])
def test_array_metadata_edited_against_the_record_is_named_damaged(scene, tmp_path, edit):
    """info said complete and export wrote another image size; resume blamed another job."""
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, chunks=20, progress=False)
    path = store / ("tiles_done" if edit.startswith("record") else "image") / "zarr.json"
    metadata = json.loads(path.read_text())
    if edit in ("shape", "records"):
        metadata["shape"][1] -= 10 if edit == "shape" else 1
    elif edit in ("chunks", "record chunks"):
        metadata["chunk_grid"]["configuration"]["chunk_shape"] = [10, 10] if edit == "chunks" \
            else [2, 2]
    else:
        metadata["data_type"] = "float64"
    path.write_text(json.dumps(metadata))
    for reader in (lambda: tileblot.open_output(store), lambda: tileblot.verify_output(store),
                   lambda: tileblot.export_fits(store, tmp_path / "out.fits"),
                   lambda: tileblot.blot_to_zarr(data, pixmap, store, chunks=20, resume=True,
                                                 progress=False)):
        with pytest.raises(ValueError, match=r"is damaged: its image array is .* where its "
                                             r"record says 60 x 70 in 20 x 20 tiles of float32"
                                             r".*overwrite=True"):
            reader()
    assert not (tmp_path / "out.fits").exists()

@pytest.mark.parametrize("damage", ["root", "params", "total"])
def test_damage_by_hand_is_named_or_worked_around(scene, tmp_path, damage):
    """The root's metadata cut short (the image still says whose store it is), a record with
    a fillval that is no number, or a coverage total that is not: named as damage (overwrite
    then replaces the store), or the total counted again from the records."""
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, chunks=20, progress=False)
    root, done = store / "zarr.json", store / "tiles_done" / "zarr.json"
    if damage == "root":
        root.write_text(root.read_text()[:40])
    elif damage == "params":
        record = json.loads(root.read_text())
        record["attributes"]["tileblot"]["params"]["fillval"] = "abc"
        root.write_text(json.dumps(record))
    else:
        record = json.loads(done.read_text())
        record["attributes"]["tileblot"] = {"onimage": "many", "pixels": None}
        done.write_text(json.dumps(record))
        coverage = tileblot.open_output(store).record["coverage"]
        assert coverage["tiles_counted"] == coverage["tiles"] and coverage["onimage"] > 0
        return
    words = {"root": r"is damaged: its root metadata \(zarr.json\) cannot be read",
             "params": r"has a damaged record: params not as tileblot writes them"}[damage]
    with pytest.raises(ValueError, match=words + r".*overwrite=True"):
        tileblot.open_output(store)
    image = tileblot.blot_to_zarr(data, pixmap, store, chunks=20, overwrite=True,
                                  progress=False)
    np.testing.assert_array_equal(image[...], tileblot.blot_image(data, pixmap,
                                                                  precision="high"))


def test_a_record_that_does_not_decode_points_to_verify(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    expected = tileblot.blot_to_zarr(data, pixmap, store, chunks=20, progress=False)[...]
    (store / "tiles_done" / "c" / "0" / "0").write_bytes(b"")
    with pytest.raises(ValueError, match=r"completion records in .*tiles_done do not decode"
                                         r".*verify=True"):
        tileblot.blot_to_zarr(data, pixmap, store, chunks=20, resume=True, progress=False)
    image = tileblot.blot_to_zarr(data, pixmap, store, chunks=20, resume=True, verify=True,
                                  progress=False)
    np.testing.assert_array_equal(image[...], expected)
    assert tileblot.verify_output(store)["tiles_corrupt"] == []


def test_one_store_that_fails_its_final_check_leaves_no_other_locked(scene, tmp_path):
    """A two-exposure resume whose first store's records do not decode at the end: the
    second store is still checked and released (it stayed locked for the process's life)."""
    data, pixmap = scene
    stores = [tmp_path / "a.zarr", tmp_path / "b.zarr"]
    expected = [image[...] for image in tileblot.blot_to_zarr(
        data, [pixmap, pixmap], stores, chunks=20, progress=False)]
    for store in stores:  # as an interrupted job leaves them
        (store / DONE / "c" / "1" / "1").unlink()
    (stores[0] / DONE / "c" / "0" / "0").write_bytes(b"")
    with pytest.raises(ValueError, match=r"completion records in .*a.zarr.*do not decode"):
        tileblot.blot_to_zarr(data, [pixmap, pixmap], stores, chunks=20, resume=True,
                              progress=False)
    for store in stores:
        assert describe(store)["lock"] is None
    assert describe(stores[1])["complete"]
    images = tileblot.blot_to_zarr(data, [pixmap, pixmap], stores, chunks=20, resume=True,
                                   verify=True, progress=False)
    for image, want in zip(images, expected, strict=True):
        np.testing.assert_array_equal(image[...], want)


def test_an_unfinished_store_with_a_record_that_does_not_decode_can_be_verified(scene,
                                                                               tmp_path):
    """As a job killed mid-write can leave it: describing and verifying it must work (the
    coverage leaves the damaged record uncounted), and a resume with verify redoes it."""
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    expected = tileblot.blot_to_zarr(data, pixmap, store, chunks=20, progress=False)[...]
    (store / "tiles_done" / "c" / "0" / "0").write_bytes(b"")
    (store / "tiles_done" / "c" / "1" / "1").unlink()
    info = describe(store)
    assert not info["complete"] and info["coverage"]["tiles_counted"] == info["tiles"] - 2
    report = tileblot.verify_output(store)
    assert report["tiles_corrupt"] == [[0, 0]] and report["tiles_done"] == info["tiles"] - 2
    assert tileblot.open_output(store).complete is False
    image = tileblot.blot_to_zarr(data, pixmap, store, chunks=20, resume=True, verify=True,
                                  progress=False)
    np.testing.assert_array_equal(image[...], expected)
    assert describe(store)["complete"]


def test_export_of_a_chunk_that_does_not_decode_names_it_and_leaves_no_file(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, chunks=20, progress=False)
    chunk = store / IMAGE / "c" / "1" / "0"
    chunk.write_bytes(chunk.read_bytes()[:10])
    # Named as the user named it (an object store was named by its object's repr).
    # A damaged store (the command line exits 1), and the ValueError it was before.
    with pytest.raises(tileblot.DamagedInputError,
                       match=r"^output store '.*out.zarr': a chunk of its image in "
                             r"rows 20 to 39 does not decode.*resume with verify=True") as info:
        tileblot.export_fits(str(store), tmp_path / "out.fits")
    assert isinstance(info.value, ValueError)
    assert not (tmp_path / "out.fits").exists()



@pytest.mark.parametrize("name", ["out.fits", "out.fits.gz"])
def test_an_export_that_fails_keeps_the_file_it_was_to_replace(scene, tmp_path, name):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, chunks=20, progress=False)
    fits_file = tileblot.export_fits(store, tmp_path / name)
    before = fits_file.read_bytes()
    chunk = store / IMAGE / "c" / "1" / "0"
    chunk.write_bytes(chunk.read_bytes()[:10])
    with pytest.raises(ValueError, match="does not decode"):
        tileblot.export_fits(store, fits_file, overwrite=True)
    assert fits_file.read_bytes() == before  # deleted before the new file was written
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.zarr", name])


@pytest.mark.parametrize("interp", ["linear", "poly3"])
@pytest.mark.parametrize("resume", [False, True])
def test_a_store_another_job_made_while_this_one_started_is_never_created_over(
        scene, tmp_path, monkeypatch, resume, interp):
    # Both jobs found nothing there; the other took the store first and finished before
    # this one took it. Created over, its output was silently replaced.
    from tileblot._api import _blot_to_zarr

    data, pixmap = scene
    store = tmp_path / "out.zarr"
    take, others = _blot_to_zarr.take_output, []

    def other_job_first(*args, **kwargs):
        if not others:
            others.append(store)
            tileblot.blot_to_zarr(data, pixmap, store, interp="linear", chunks=20,
                                  progress=False)
        return take(*args, **kwargs)

    monkeypatch.setattr(_blot_to_zarr, "take_output", other_job_first)
    if not resume:
        with pytest.raises(ValueError, match=r"out.zarr' was created by another job while this "
                                             r"one was starting; pass resume=True"):
            tileblot.blot_to_zarr(data, pixmap, store, interp=interp, chunks=20,
                                  progress=False)
    elif interp == "linear":  # asked to resume: it finishes the other's store
        tileblot.blot_to_zarr(data, pixmap, store, interp=interp, chunks=20, progress=False,
                              resume=True)
    else:  # ...and refuses it if made otherwise, as any resume does
        with pytest.raises(ValueError, match=r"other parameters \(interp=linear then, poly3"):
            tileblot.blot_to_zarr(data, pixmap, store, interp=interp, chunks=20,
                                  progress=False, resume=True)
    output = tileblot.open_output(store)  # the other job's, whole
    assert output.complete and output.record["params"]["interp"] == "linear"
    np.testing.assert_array_equal(output.image[...], tileblot.blot_image(
        data, pixmap, interp="linear", precision="high"))

def test_a_store_held_by_a_live_job_is_refused(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, store, chunks=32, progress=False)
    group = zarr.open_group(store, mode="r+")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = {"job": "other", "host": socket.gethostname(), "pid": sleeper.pid,
                 "started": "earlier"}
        group.create_group("tileblot_lock", attributes={"tileblot_lock": owner})
        for mode in ({"overwrite": True}, {"resume": True}):
            with pytest.raises(ValueError, match=rf"in use by job other \(pid {sleeper.pid}"):
                tileblot.blot_to_zarr(data, pixmap, store, chunks=32, progress=False, **mode)
        image = tileblot.blot_to_zarr(data, pixmap, store, interp="linear", chunks=32,
                                      overwrite=True, break_lock=True, progress=False)
    finally:
        sleeper.kill()
        sleeper.wait()
    np.testing.assert_array_equal(
        image[...], tileblot.blot_image(data, pixmap, interp="linear", precision="high"))
    assert tileblot.break_lock(store) is None  # released at the end


def test_a_job_that_loses_its_store_midway_does_not_report_success(scene, tmp_path):
    data, pixmap = scene
    store = tmp_path / "out.zarr"
    errors = []

    def job():
        try:
            tileblot.blot_to_zarr(SlowSource(data, delay=0.05), pixmap, store,
                                  interp="linear", chunks=10, progress=False)
        except RuntimeError as exc:
            errors.append(exc)

    runner = threading.Thread(target=job)
    runner.start()
    deadline = time.monotonic() + 60
    while not (store / DONE / "c").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    removed = tileblot.break_lock(store)  # another user "takes" the store
    runner.join(timeout=120)
    assert removed is not None and not runner.is_alive()
    assert len(errors) == 1 and "taken over" in str(errors[0])
    assert not describe(store)["complete"]


class _TakenAtRead(RecordingSource):
    """A source whose ``at``-th read lets another job take output store ``store``."""

    def __init__(self, array, store, at):
        super().__init__(array)
        self.store, self.at, self.thief = store, at, _lock.new_owner()

    def __getitem__(self, key):
        if len(self.reads) + 1 == self.at:
            take_output(self.store, self.thief, break_lock=True)
        return super().__getitem__(key)


@pytest.mark.parametrize("exposures", [1, 2])
def test_a_job_that_loses_its_store_stops_at_once(scene, tmp_path, exposures):
    """It computed every remaining tile (on a cluster, hours) before its final check failed."""
    data, pixmap = scene
    stores = [tmp_path / f"out{k}.zarr" for k in range(exposures)]
    source = _TakenAtRead(data, stores[0], at=3)
    with dask.config.set(scheduler="synchronous"), pytest.raises(
            RuntimeError, match=rf"out0\.zarr' was taken over while this job ran; .* held by "
                                rf"job {source.thief['job']}") as stopped:
        tileblot.blot_to_zarr(source, [pixmap] * exposures, stores, interp="linear",
                              chunks=10, progress=False)
    tiles = 6 * 7 * exposures
    assert len(source.reads) <= 4 < tiles
    assert _lock.owns(open_root(stores[0]), source.thief["job"])  # left to that job
    if exposures == 2:  # the other store: released, unfinished, and said so
        assert str(stopped.value).endswith(
            f"this job stopped there, leaving {str(stores[1])!r} unfinished: finish it with "
            "resume=True (--resume)")
        assert tileblot.break_lock(stores[1]) is None
        image = tileblot.blot_to_zarr(_TakenAtRead(data, stores[0], at=0), pixmap, stores[1],
                                      interp="linear", chunks=10, resume=True, progress=False)
        np.testing.assert_array_equal(image[...], tileblot.blot_image(
            data, pixmap, interp="linear", precision="high"))


@pytest.mark.parametrize("store", [None, 5, 2.5])
def test_a_store_that_is_not_a_location_or_a_store_is_refused(scene, store):
    # zarr would take None as a new store in memory: a job that succeeds into nothing.
    data, pixmap = scene
    with pytest.raises(TypeError, match="output store must be a path, a URL or a zarr store"):
        tileblot.blot_to_zarr(data, pixmap, store, chunks=32, progress=False)


def test_an_in_memory_store_with_a_process_scheduler_is_refused(scene):
    data, pixmap = scene
    source = RecordingSource(data)
    with dask.config.set(scheduler="processes"):
        for store in (zarr.storage.MemoryStore(), f"memory://tileblot-procs-{id(scene)}",
                      zarr.storage.LoggingStore(zarr.storage.MemoryStore())):
            with pytest.raises(ValueError, match=r"memory.*other processes"):
                tileblot.blot_to_zarr(source, pixmap, store, chunks=32, progress=False)
    assert source.reads == []
    with dask.config.set(scheduler="threads"):  # one process: fine
        tileblot.blot_to_zarr(data, pixmap, zarr.storage.MemoryStore(), chunks=32,
                              progress=False)


def test_an_output_blotted_again_must_be_finished(scene, tmp_path):
    """An unfinished output read as a mosaic gives fill values for its missing tiles: it is
    refused however it is named (the store, its image by path, the zarr array)."""
    data, pixmap = scene
    first = tmp_path / "first.zarr"
    tileblot.blot_to_zarr(data, pixmap, first, chunks=20, progress=False)
    mosaic = np.asarray(zarr.open_group(first, mode="r")[IMAGE][...])
    again = affine_pixmap((30, 30), shift=(5.0, 5.0))
    expected = tileblot.blot_image(mosaic, again, precision="high")
    image = zarr.open_group(first, mode="r")[IMAGE]
    for source in (str(first), str(first / IMAGE), image):
        np.testing.assert_array_equal(tileblot.blot(source, again).compute(), expected)
    (first / "tiles_done" / "c" / "1" / "1").unlink()  # as a job killed before the end
    for source in (str(first), str(first / IMAGE), image):
        with pytest.raises(ValueError, match=r"data: .*first.zarr.* is an unfinished tileblot "
                                             r"output \(\d+ of \d+ tiles\): finish it with "
                                             r"resume=True"):
            tileblot.blot(source, again)


def test_an_image_copied_with_its_record_is_neither_an_output_nor_refused(scene, tmp_path):
    """A user's group holding a copy of an output's image, attributes and all: overwrite must
    not take it for tileblot's (it replaced the user's group), and it reads as a mosaic."""
    data, pixmap = scene
    out = tmp_path / "out.zarr"
    image = tileblot.blot_to_zarr(data, pixmap, out, chunks=20, progress=False)
    mine = zarr.open_group(tmp_path / "mine.zarr", mode="w", attributes={"project": "mine"})
    mine.create_array(IMAGE, data=image[...], attributes=dict(image.attrs))
    mine.create_array("weights", data=np.ones(3))
    with pytest.raises(ValueError, match="exists and is not a tileblot output"):
        tileblot.blot_to_zarr(data, pixmap, tmp_path / "mine.zarr", overwrite=True,
                              progress=False)
    assert dict(zarr.open_group(tmp_path / "mine.zarr", mode="r").attrs) == {"project": "mine"}
    again = affine_pixmap((20, 20), shift=(3.0, 3.0))
    expected = tileblot.blot_image(image[...], again, precision="high")
    for source in (str(tmp_path / "mine.zarr" / IMAGE), mine[IMAGE]):
        np.testing.assert_array_equal(tileblot.blot(source, again).compute(), expected)


def test_an_output_held_by_a_job_is_refused_as_input_with_the_remedy(scene, tmp_path):
    data, pixmap = scene
    out = tmp_path / "out.zarr"
    tileblot.blot_to_zarr(data, pixmap, out, chunks=20, progress=False)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        take_output(out, {**_lock.new_owner(), "pid": sleeper.pid})
        with pytest.raises(ValueError, match=r"is being written by job .*tileblot.break_lock"):
            tileblot.blot(str(out), pixmap)
        tileblot.break_lock(out)
        tileblot.blot(str(out), pixmap)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_warning_about_one_exposure_of_many_names_it(scene, tmp_path):
    pytest.importorskip("astropy")
    from ..pixmaps.skies import make_wcs

    data, _ = scene
    mosaic_wcs = make_wcs((60, 70), scale=0.05)
    exposures = [make_wcs((40, 50), scale=0.05, crval=(mosaic_wcs.wcs.crval[0] + d,
                                                       mosaic_wcs.wcs.crval[1]))
                 for d in (0.0, 1e-4)]
    pixmaps = [tileblot.pixmap_from_wcs(wcs, mosaic_wcs, (40, 50)) for wcs in exposures]
    stores = [tmp_path / f"exposure{k}.zarr" for k in range(2)]
    # The pixmaps were made for a 60 x 70 mosaic; data (no WCS of its own) is another size.
    with pytest.warns(UserWarning) as caught:
        tileblot.blot_to_zarr(data, pixmaps, stores, chunks=16, progress=False)
    messages = [str(w.message) for w in caught]
    for k in range(2):
        assert any(re.match(rf"exposure {k + 1} of 2 \(output .*exposure{k}\.zarr'\): the "
                            r"pixmap was made for a mosaic WCS of a 60 x 70 image", m)
                   for m in messages), messages
    assert all(w.filename == __file__ for w in caught)  # still the caller's line
    # An error after a warning: both are said.
    bad = [pixmaps[0], pixmaps[1][..., :1]]
    with pytest.warns(UserWarning, match=r"^exposure 1 of 2 .*made for a mosaic WCS"), \
            pytest.raises(ValueError, match=r"^exposure 2 of 2 .*pixmap must have shape"):
        tileblot.blot_to_zarr(data, bad, [tmp_path / "a.zarr", tmp_path / "b.zarr"],
                              progress=False)
    # Jobs on two threads at once: each names its own exposures, and the process's warning
    # machinery is left as it was (swapped process-wide and restored out of order, it lost
    # every later warning).
    def job(name):
        for run in range(3):
            tileblot.blot_to_zarr(data, pixmaps, [tmp_path / f"{name}{run}-{k}.zarr"
                                                  for k in range(2)], chunks=16, progress=False)

    threads = [threading.Thread(target=job, args=(name,)) for name in ("left", "right")]
    with warnings.catch_warnings(record=True) as everything:
        warnings.simplefilter("always")
        display = (warnings.showwarning, warnings._showwarnmsg_impl)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert (warnings.showwarning, warnings._showwarnmsg_impl) == display
    assert len(everything) == 2 * 3 * 2
    for w in everything:  # each names its own exposure and store
        named = re.match(r"exposure (\d) of 2 \(output .*(left|right)\d-(\d)\.zarr'\): ",
                         str(w.message))
        assert named and int(named[1]) == int(named[3]) + 1, str(w.message)
