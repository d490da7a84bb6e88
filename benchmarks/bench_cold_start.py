"""Cold start of each interpolator: numba compiling (empty cache) against loading (warm cache).

For every interpolator and precision the script runs, each in a fresh Python process:

- *cold*: ``import tileblot`` then the first ``blot_image`` call, with ``NUMBA_CACHE_DIR``
  pointing at a new, empty temporary directory, so numba compiles what the call uses;
- *warm*: the same in another fresh process with that directory now filled, so numba loads
  the compiled kernels from disk;
- *warm, no scipy*: the same again with scipy hidden from the child, as in an install without
  it (tileblot does not need it; the test extras and gwcs bring it): numba imports
  ``scipy.linalg`` on its first compile or cache load when it can, 0.3-0.5 s.

The data are float32 (64 x 64), the pixmap float64 (32 x 32). Times are wall clock, measured
inside the child (import, first call) and reported in seconds, with the CPU time of the cold
call beside it (less disturbed by other load on the machine); ``--repeat`` keeps the best.

Run from the repository root::

    python benchmarks/bench_cold_start.py [--interp lan3 poly5] [--precision high]
        [--repeat 1] [--json results.json]
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

# numba imports scipy.linalg on its first compile or cache load when scipy is installed (to
# look for BLAS), 0.3-0.5 s. tileblot does not need scipy; hidden like this, the child runs
# as in an install without it (numba then finds no BLAS, which tileblot never uses).
HIDE_SCIPY = "import sys; sys.modules['scipy'] = None\n"

CHILD = """
import json, sys, time
start = time.perf_counter()
import numpy as np
from tileblot import blot_image
imported = time.perf_counter()
cpu = time.process_time()
rng = np.random.default_rng(0)
data = rng.normal(size=(64, 64)).astype(np.float32)
pixmap = np.dstack([rng.uniform(0, 64, (32, 32)), rng.uniform(0, 64, (32, 32))])
blot_image(data, pixmap, interp=sys.argv[1], precision=sys.argv[2])
done = time.perf_counter()
print(json.dumps({"import": imported - start, "call": done - imported,
                  "call_cpu": time.process_time() - cpu,
                  "modules": sorted(m for m in ("dask", "zarr") if m in sys.modules)}))
"""


def run_child(interp, precision, cache_dir, hide_scipy=False):
    """Run one fresh process; return its ``{"import": s, "call": s, ...}``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", (HIDE_SCIPY if hide_scipy else "") + CHILD, interp, precision],
        env=env, capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(interp, precision, repeat):
    """Best cold (first call) and warm (import + first call) times over ``repeat`` runs."""
    cold = cold_cpu = warm_no_scipy = float("inf")
    best_warm = None  # the warm run with the best import + call, whose import is shown
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="tileblot-cold-") as cache_dir:
            first = run_child(interp, precision, cache_dir)
            second = run_child(interp, precision, cache_dir)
            third = run_child(interp, precision, cache_dir, hide_scipy=True)
        cold = min(cold, first["call"])
        cold_cpu = min(cold_cpu, first["call_cpu"])
        if best_warm is None or (second["import"] + second["call"]
                                 < best_warm["import"] + best_warm["call"]):
            best_warm = second
        warm_no_scipy = min(warm_no_scipy, third["import"] + third["call"])
    return {"interp": interp, "precision": precision, "cold_call_s": cold,
            "cold_call_cpu_s": cold_cpu,
            "warm_import_and_call_s": best_warm["import"] + best_warm["call"],
            "warm_import_s": best_warm["import"], "warm_no_scipy_s": warm_no_scipy,
            "modules_loaded": best_warm["modules"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interp", nargs="+", choices=INTERPOLATORS, default=INTERPOLATORS)
    parser.add_argument("--precision", nargs="+", choices=PRECISIONS, default=PRECISIONS)
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the best is kept")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    print(f"{'interp':8s}{'precision':>10s}{'cold call s':>13s}{'(CPU s)':>9s}"
          f"{'warm import+call s':>20s}{'of which import':>17s}{'warm, no scipy s':>18s}")
    rows = []
    for interp in args.interp:
        for precision in args.precision:
            row = measure(interp, precision, args.repeat)
            rows.append(row)
            print(f"{interp:8s}{precision:>10s}{row['cold_call_s']:13.2f}"
                  f"{row['cold_call_cpu_s']:9.2f}{row['warm_import_and_call_s']:20.2f}"
                  f"{row['warm_import_s']:17.2f}{row['warm_no_scipy_s']:18.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
