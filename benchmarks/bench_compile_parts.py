"""Where a cold first call's compile time goes: CPU seconds per compiled function.

For each interpolator and precision, a fresh Python process with an empty ``NUMBA_CACHE_DIR``
makes the first ``blot_image`` call (the same inputs as ``bench_cold_start.py``) while a
listener on numba's ``numba:compile`` events records each compilation. The table gives the
call's CPU time, the part spent outside numba's compile events (numba's one-off start-up,
cache writes), and each function's own compile time (its nested compilations subtracted):
entry points, helpers, and numba's own overloads (``np.empty``, ``int``, ...) summed as
``(numba)``. CPU time, so that other load on the machine disturbs it less than wall time.

Run from the repository root::

    python benchmarks/bench_compile_parts.py [--interp lan3 poly5] [--precision high]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

INTERPOLATORS = ("nearest", "linear", "poly3", "poly5", "sinc", "lan3", "lan5")
PRECISIONS = ("drizzle", "high")

CHILD = """
import json, sys, time
import numpy as np
from numba.core import event

class Parts(event.Listener):
    def __init__(self):
        self.stack, self.own = [], {}
    def on_start(self, ev):
        self.stack.append([time.process_time(), 0.0])
    def on_end(self, ev):
        start, nested = self.stack.pop()
        spent = time.process_time() - start
        if self.stack:
            self.stack[-1][1] += spent
        name = ev.data["dispatcher"].__qualname__.split(".<locals>")[0]
        if name.startswith(("ol_", "_ol_")) or "." in name:
            name = "(numba)"
        self.own[name] = self.own.get(name, 0.0) + spent - nested
        if not self.stack:
            self.top = getattr(self, "top", 0.0) + spent

from tileblot import blot_image
parts = Parts()
event.register("numba:compile", parts)
rng = np.random.default_rng(0)
data = rng.normal(size=(64, 64)).astype(np.float32)
pixmap = np.dstack([rng.uniform(0, 64, (32, 32)), rng.uniform(0, 64, (32, 32))])
cpu = time.process_time()
blot_image(data, pixmap, interp=sys.argv[1], precision=sys.argv[2])
cpu = time.process_time() - cpu
print(json.dumps({"cpu": cpu, "outside": cpu - getattr(parts, "top", 0.0), "own": parts.own}))
"""


def run_child(interp, precision):
    """One fresh process with an empty numba cache; its ``{"cpu", "outside", "own"}``."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="tileblot-parts-") as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        result = subprocess.run([sys.executable, "-c", CHILD, interp, precision], env=env,
                                capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interp", nargs="+", choices=INTERPOLATORS, default=INTERPOLATORS)
    parser.add_argument("--precision", nargs="+", choices=PRECISIONS, default=PRECISIONS)
    args = parser.parse_args()
    print(f"{'interp':8s}{'precision':>10s}{'CPU s':>7s}{'outside':>9s}  own compile CPU s")
    for interp in args.interp:
        for precision in args.precision:
            row = run_child(interp, precision)
            parts = sorted(row["own"].items(), key=lambda item: -item[1])
            print(f"{interp:8s}{precision:>10s}{row['cpu']:7.2f}{row['outside']:9.2f}  "
                  + "  ".join(f"{name} {seconds:.2f}" for name, seconds in parts), flush=True)


if __name__ == "__main__":
    main()
