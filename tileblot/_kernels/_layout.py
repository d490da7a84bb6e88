"""Where the kernels keep their numbers: the per-call scratch array and each state array.

Every offset into ``scratch`` or ``state`` that a kernel uses is named here, so that a
layout is read (and changed) in one place. The kernels import these names as module
globals, which numba freezes into the compiled code as constants.
"""

# Scratch: one float64 array per entry-point call, allocated (zeroed) by the caller, holding the
# weights of the general paths (the x axis from SCRATCH_X, the y axis from SCRATCH_Y) and
# the block loop's numbers.
#: Most weights per axis any interpolator keeps in scratch (sinc: 15, lan5: 11, poly5: 6).
MAX_TAPS = 16
SCRATCH_X = 0
SCRATCH_Y = MAX_TAPS

# Then the block loop's (see _loop.blot_block_loop): BLOCK output pixels of a row at a
# time, their coordinates (x from BLOCK_X, y from BLOCK_Y = BLOCK_X + BLOCK: the prepare
# steps read the 2 BLOCK of them as one row) and, from BLOCK_WEIGHTS, what the prepare
# step computes for each coordinate: up to BLOCK_ROWS rows of 2 BLOCK numbers (for
# Lanczos, weight t of coordinate k at BLOCK_WEIGHTS + t * 2 BLOCK + k).
#: Output pixels per block: their weights stay in the first-level cache (lan5: 10 kB).
BLOCK = 64
#: Most numbers per coordinate a prepare step keeps (lan5: 10 weights).
BLOCK_ROWS = 10
BLOCK_X = 2 * MAX_TAPS
BLOCK_Y = BLOCK_X + BLOCK
BLOCK_WEIGHTS = BLOCK_Y + BLOCK
SCRATCH_SIZE = BLOCK_WEIGHTS + BLOCK_ROWS * 2 * BLOCK

# Lanczos state (see lanczos.lanczos_state): order, then drizzle's table of L(k * 0.003) up
# to the end of the array.
LANCZOS_ORDER = 0
LANCZOS_TABLE = 1

# Sinc state (see sinc.sinc_state): sinscl, then the taper T(-7) .. T(7).
SINC_SCALE = 0
SINC_TAPER = 1


def check_taps(name, taps):
    """Raise ``ValueError`` at import if ``name`` would keep more than ``MAX_TAPS`` per axis."""
    if not 0 < taps <= MAX_TAPS:
        raise ValueError(f"{name} needs {taps} scratch weights per axis; MAX_TAPS is {MAX_TAPS}")
    return taps
