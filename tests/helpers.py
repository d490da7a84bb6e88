"""Test doubles for data sources (they record, or slow down, every window read), and the
command line run in-process.

Module-level classes so that dask worker processes can unpickle them.
"""

import json
import subprocess
import sys
import threading
import time

import numpy as np
from dask.base import tokenize

from tileblot._cli import main


class RecordingSource:
    """A 2-D array that remembers every slice read from it (per process)."""

    def __init__(self, array):
        self.array = np.asarray(array)
        self.shape = self.array.shape
        self.dtype = self.array.dtype
        self.ndim = 2
        self.reads = []
        self._lock = threading.Lock()

    def __getstate__(self):
        return {"array": self.array, "shape": self.shape, "dtype": self.dtype, "ndim": 2}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.reads = []
        self._lock = threading.Lock()

    def __dask_tokenize__(self):
        # Equal arrays give equal tokens, so a resumed job recognises its input.
        return ("recording-source", tokenize(self.array))

    def __getitem__(self, key):
        rows, cols = key
        with self._lock:
            self.reads.append((rows.start, rows.stop, cols.start, cols.stop))
        return self.array[key]


class SlowSource(RecordingSource):
    """A source whose every read takes ``delay`` seconds (to interrupt jobs midway)."""

    def __init__(self, array, delay):
        super().__init__(array)
        self.delay = delay

    def __getstate__(self):
        return {**super().__getstate__(), "delay": self.delay}

    def __getitem__(self, key):
        time.sleep(self.delay)
        return super().__getitem__(key)


def affine_pixmap(shape, *, scale=1.0, angle=0.0, shift=(0.0, 0.0), dtype=np.float64):
    """Pixmap of a rotated, scaled, shifted grid: ``pixmap[j, i] = (x, y)``."""
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    c, s = np.cos(angle), np.sin(angle)
    xp = scale * (c * x - s * y) + shift[0]
    yp = scale * (s * x + c * y) + shift[1]
    return np.dstack([xp, yp]).astype(dtype)


def run_cli(argv, capsys):
    """``tileblot`` run in this process on ``argv`` (any items, as strings):
    ``(status, stdout, stderr)``."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def start_scheduler(scheduler_file, *, cwd, env):
    """A ``dask scheduler`` process on loopback (its ``Popen``), which writes its address to
    ``scheduler_file`` (read it with :func:`scheduler_address`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def scheduler_address(scheduler_file, timeout=60):
    """The address in a ``dask scheduler --scheduler-file``'s file, once it is written whole.

    The file exists, empty, a moment before its address is in it: read then (under load) it
    failed to parse.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            time.sleep(0.1)
    raise TimeoutError(f"the scheduler wrote no address to {scheduler_file} in {timeout} s")
