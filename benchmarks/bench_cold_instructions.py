"""Cold first call of each interpolator counted in machine instructions, under valgrind.

Wall and CPU times of a cold start move by up to a third from run to run on a shared
machine (the host's speed drifts with other tenants), which hides changes of a tenth. The
number of instructions a process executes does not drift: this script runs the same child
as ``bench_cold_start.py``'s *cold* cell (``import tileblot``, then the first ``blot_image``
call with an empty ``NUMBA_CACHE_DIR``) under ``valgrind --tool=cachegrind --cache-sim=no``
and prints the instructions it executed, in billions, import included; and, for reference,
those of a child that only imports what it imports. Repeated runs agree to about 0.5% (hash
seed fixed).

Instructions are not time, and valgrind presents its own CPU to LLVM, so the code numba
generates may differ from a native run's: use the counts to compare two versions of the
kernels, and ``bench_cold_start.py`` for the seconds. About 30x slower than a native run;
cells run in parallel (``--jobs``).

Run from the repository root (needs ``valgrind`` on the PATH)::

    python benchmarks/bench_cold_instructions.py [--interp lan3 lan5] [--precision high]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_cold_start import CHILD, INTERPOLATORS, PRECISIONS

# What CHILD imports before its call (tileblot imports its kernels, and numba, on first use).
IMPORT_ONLY = "import numpy\nfrom tileblot import blot_image\n"


def count(code, *args):
    """Instructions executed by a fresh ``python -c code args``, empty numba cache."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="tileblot-instr-") as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONHASHSEED="0")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        result = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
             sys.executable, "-c", code, *args],
            env=env, capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{result.stderr}")
    return int(found.group(1).replace(",", ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interp", nargs="+", choices=INTERPOLATORS, default=INTERPOLATORS)
    parser.add_argument("--precision", nargs="+", choices=PRECISIONS, default=PRECISIONS)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="children run at once")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not on the PATH")
    cells = [(interp, precision) for interp in args.interp for precision in args.precision]
    with ThreadPoolExecutor(args.jobs) as pool:
        imported = pool.submit(count, IMPORT_ONLY)
        counts = list(pool.map(lambda cell: count(CHILD, *cell), cells))
    print(f"import numpy; from tileblot import blot_image: {imported.result() / 1e9:.2f} G "
          "instructions")
    print(f"{'interp':8s}{'precision':>10s}{'cold call, G instructions':>27s}")
    rows = []
    for (interp, precision), n in zip(cells, counts, strict=True):
        print(f"{interp:8s}{precision:>10s}{n / 1e9:27.2f}")
        rows.append({"interp": interp, "precision": precision, "instructions": n})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"import": imported.result(), "cold": rows}, f, indent=1)


if __name__ == "__main__":
    main()
