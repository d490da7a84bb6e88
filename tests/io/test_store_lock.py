"""One writer at a time: the ownership lock, stale locks, and tasks of a job that lost the store."""

import subprocess
import sys

import numpy as np
import pytest
import zarr

from tileblot._io import _lock
from tileblot._io._maintenance import break_lock
from tileblot._io._refusals import check_location, check_output
from tileblot._io._store import (
    create_output,
    describe,
    finish,
    take_output,
)
from tileblot._io._tile_writer import StoreLostError, TileWriter

RECORD = {"version": "test", "params": {}, "shape": [10, 10], "chunks": [5, 5],
          "data": {}, "pixmap": {}}


@pytest.fixture
def started(tmp_path):
    path = tmp_path / "out.zarr"
    check_output(path, RECORD)
    owner = _lock.new_owner()
    root = take_output(path, owner)
    image, done = create_output(root, (10, 10), (5, 5), 0.0, RECORD, owner["job"])
    yield path, root, owner, image, done
    _lock.release(root, owner["job"])


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _foreign_owner(**changes):
    return {**_lock.new_owner(), **changes}


def test_a_second_job_is_refused_while_the_first_runs(started):
    path, root, owner, _, _ = started
    with pytest.raises(ValueError, match=rf"in use by job {owner['job']} \(pid \d+ on host"):
        take_output(path, _lock.new_owner())
    assert _lock.read_lock(root)["job"] == owner["job"]


@pytest.mark.parametrize("mode", ["overwrite", "resume"])
def test_a_held_store_is_refused_before_any_job_starts(started, mode):
    """check_location (what the command line runs before reading its inputs, and what
    check_output starts with) names the live holder; break_lock lets it through, and the
    lock is taken over later."""
    path, root, owner, _, _ = started
    with pytest.raises(ValueError, match=rf"in use by job {owner['job']}"):
        check_location(path, **{mode: True})
    with pytest.raises(ValueError, match=rf"in use by job {owner['job']}"):
        check_output(path, RECORD, **{mode: True})
    assert check_location(path, break_lock=True, **{mode: True}) is True
    # Without overwrite or resume, the store is in the way whoever holds it.
    with pytest.raises(ValueError, match="already exists"):
        check_location(path, break_lock=True)
    assert _lock.read_lock(root)["job"] == owner["job"]  # nothing taken or written
    _lock.release(root, owner["job"])
    assert check_location(path, **{mode: True}) is True


def test_a_lock_of_a_live_process_elsewhere_on_this_host_is_respected(tmp_path):
    path = tmp_path / "out.zarr"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        take_output(path, _foreign_owner(pid=sleeper.pid))
        with pytest.raises(ValueError, match="in use by"):
            take_output(path, _lock.new_owner())
    finally:
        sleeper.kill()
        sleeper.wait()
    # Now its process is gone: the lock is stale and the next job takes over.
    owner = _lock.new_owner()
    take_output(path, owner)
    assert _lock.owns(_lock_root(path), owner["job"])


def _lock_root(path):
    from tileblot._io._store import open_root

    return open_root(path)


def test_stale_locks_are_recognised(tmp_path):
    path = tmp_path / "out.zarr"
    dead = _foreign_owner(pid=_dead_pid())
    assert _lock.lock_is_stale(dead)
    # A finished job of this very process (an exception caught in a notebook).
    assert _lock.lock_is_stale(_lock.new_owner())
    # Another host cannot be checked from here: never stale, break it explicitly.
    elsewhere = _foreign_owner(host="some-other-node", pid=_dead_pid())
    assert not _lock.lock_is_stale(elsewhere)
    take_output(path, elsewhere)
    with pytest.raises(ValueError, match=r"some-other-node.*break_lock=True"):
        take_output(path, _lock.new_owner())
    owner = _lock.new_owner()
    take_output(path, owner, break_lock=True)
    assert _lock.owns(_lock_root(path), owner["job"])


def test_break_lock_removes_any_lock(started, tmp_path):
    path, root, owner, _, _ = started
    removed = break_lock(path)
    assert removed["job"] == owner["job"]
    assert _lock.read_lock(root) is None and break_lock(path) is None
    assert describe(path)["lock"] is None
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="not a tileblot output"):
        break_lock(tmp_path / "plain")


def test_tasks_of_a_job_that_lost_the_store_record_nothing(started):
    path, root, owner, image, done = started
    tile = np.ones((5, 5), dtype=np.float32)
    write = TileWriter(image, done, root, owner["job"])
    write(tile, 0, 0, 25)
    thief = _lock.new_owner()
    take_output(path, thief, break_lock=True)
    # The first job's remaining tasks write neither data nor record, and stop the job...
    with pytest.raises(StoreLostError, match=rf"tile \(0, 1\): job {owner['job']} no longer holds"):
        write(tile * 7, 0, 1, 25)
    group = zarr.open_group(path, mode="r")
    assert group["tiles_done"][0, 1] == 0 and group["image"][0, 5] == 0
    # ...and its final check fails, naming the job that holds the store now, and leaving
    # the store to it (an overwrite would destroy its output).
    with pytest.raises(RuntimeError, match=rf"taken over.*{thief['job']}.*leave it to that "
                                           r"job") as failed:
        finish(root, RECORD, owner["job"], label="out")
    assert "overwrite" not in str(failed.value)
    # Without releasing the thief's lock.
    assert _lock.owns(root, thief["job"])
    _lock.release(root, thief["job"])
    # The thief done and gone: nobody holds it, and the advice is to look, then resume.
    with pytest.raises(RuntimeError, match=r"nobody holds it now .*tileblot info.*resume=True"):
        finish(root, RECORD, owner["job"], label="out")


def test_a_store_taken_between_a_tiles_data_and_its_record_gets_no_record(started):
    # The second ownership check: another job takes the store in the instant after
    # this task wrote its tile's data. The task must not record the tile in it.
    path, root, owner, image, done = started
    write = TileWriter(image, done, root, owner["job"])
    thief = _lock.new_owner()
    write_data = write._image.write

    def then_taken(coords, block):
        write_data(coords, block)
        take_output(path, thief, break_lock=True)

    write._image.write = then_taken
    with pytest.raises(StoreLostError):
        write(np.ones((5, 5), dtype=np.float32), 1, 0, 25)
    assert zarr.open_group(path, mode="r")["tiles_done"][1, 0] == 0
    with pytest.raises(RuntimeError, match=rf"taken over.*{thief['job']}"):
        finish(root, RECORD, owner["job"], label="out")
    _lock.release(root, thief["job"])


def test_a_store_holding_only_a_lock_counts_as_tileblot_s(tmp_path):
    # A job that died between taking the lock and creating the group.
    path = tmp_path / "out.zarr"
    take_output(path, _foreign_owner(pid=_dead_pid()))
    check_output(path, RECORD, overwrite=True)
    owner = _lock.new_owner()
    root = take_output(path, owner)
    create_output(root, (10, 10), (5, 5), 0.0, RECORD, owner["job"])
    assert _lock.owns(root, owner["job"])


@pytest.mark.parametrize("resume", [False, True])
def test_a_store_another_job_is_creating_is_refused_as_in_use(tmp_path, resume):
    """Two jobs started on one new store: the second found it holding only the first's lock
    (the group not made yet), and was told it is "not a tileblot output store", or that it
    "already exists" with resume=True to pass, which it had passed."""
    path = tmp_path / "out.zarr"
    owner = _lock.new_owner()
    root = take_output(path, owner)  # a live job of this process, before create_output
    try:
        with pytest.raises(ValueError, match=rf"is in use by job {owner['job']}"):
            check_output(path, RECORD, resume=resume)
    finally:
        _lock.release(root, owner["job"])


def test_the_lock_is_a_zarr_node_that_tools_can_list(started):
    path, _, owner, _, _ = started
    group = zarr.open_group(path, mode="r")
    members = dict(group.members())  # no "not a zarr component" warning (strict pytest)
    assert members[_lock.LOCK].attrs[_lock.LOCK]["job"] == owner["job"]


def test_a_job_whose_metadata_was_rewritten_fails_its_final_check(started):
    # What a job started in the same instant on an object store could do:
    # rewrite the group's record and the image's metadata under our lock.
    path, root, owner, image, done = started
    tile = np.ones((5, 5), dtype=np.float32)
    for ty in range(2):
        for tx in range(2):
            TileWriter(image, done, root, owner["job"])(tile, ty, tx, 25)
    zarr.open_group(path, mode="r+").attrs["tileblot"] = {**RECORD, "params": {"interp": "x"}}
    with pytest.raises(RuntimeError, match=r"rewritten while this job ran .* If another job "
                                           r"holds it now, leave it to that job"):
        finish(root, RECORD, owner["job"], label="out")


def test_a_store_deleted_while_its_job_ran_is_named_so(started):
    """Its lock gone too, it was reported as "taken over while this job ran; nobody holds it
    now", which sent the user looking for another job."""
    import shutil

    path, root, owner, _, _ = started
    shutil.rmtree(path)
    with pytest.raises(RuntimeError, match=r"out\.zarr' was deleted while this job ran \(its "
                                           r"lock and its metadata are gone\)"):
        finish(root, RECORD, owner["job"], label=repr(str(path)))


def test_a_job_interrupted_as_it_takes_the_lock_leaves_none(tmp_path, monkeypatch):
    """Interrupted after its key was written but before the caller had the store's root to
    release, a job left its lock behind, which a resume then read as another job's."""
    path = tmp_path / "out.zarr"
    real = _lock.owns
    calls = []

    def interrupted_once(root, job):
        calls.append(job)
        if len(calls) == 1:  # acquire's read-back of its own key
            raise KeyboardInterrupt
        return real(root, job)

    monkeypatch.setattr(_lock, "owns", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        take_output(path, _lock.new_owner())
    assert _lock.read_lock(_lock_root(path)) is None


def test_a_store_that_holds_no_tile_is_described_as_such(tmp_path):
    """info said "damaged: its image and tiles_done arrays are missing ... overwrite", while
    any blot into the store starts it afresh."""
    path = tmp_path / "out.zarr"
    check_output(path, RECORD)
    owner = _lock.new_owner()
    root = take_output(path, owner)
    create_output(root, (10, 10), (5, 5), 0.0, RECORD, owner["job"])
    _lock.release(root, owner["job"])
    import shutil

    shutil.rmtree(path / "tiles_done")
    with pytest.raises(ValueError, match=r"holds no tile: its job was stopped as it started .*"
                                         r"a blot into it starts the job afresh"):
        describe(path)
