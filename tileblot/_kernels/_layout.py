"""Where the kernels keep their numbers: the per-call scratch array and each state array.

Every offset into ``scratch`` or ``state`` that a kernel uses is named here, so that a
layout is read (and changed) in one place. The kernels import these names as module
globals, which numba freezes into the compiled code as constants.
"""

# Scratch: one float64 array per entry-point call, allocated by the caller, holding the
# weights of the general paths: the x axis from SCRATCH_X, the y axis from SCRATCH_Y.
#: Most weights per axis any interpolator keeps in scratch (sinc: 15, lan5: 11, poly5: 6).
MAX_TAPS = 16
SCRATCH_X = 0
SCRATCH_Y = MAX_TAPS
SCRATCH_SIZE = 2 * MAX_TAPS

# Lanczos state (see lanczos.lanczos_state): order, cos(pi / order), sin(pi / order),
# then drizzle's table of L(k * 0.003) up to the end of the array.
LANCZOS_ORDER = 0
LANCZOS_COS = 1
LANCZOS_SIN = 2
LANCZOS_TABLE = 3

# Sinc state (see sinc.sinc_state): sinscl, then the taper T(-7) .. T(7).
SINC_SCALE = 0
SINC_TAPER = 1


def check_taps(name, taps):
    """Raise ``ValueError`` at import if ``name`` would keep more than ``MAX_TAPS`` per axis."""
    if not 0 < taps <= MAX_TAPS:
        raise ValueError(f"{name} needs {taps} scratch weights per axis; MAX_TAPS is {MAX_TAPS}")
    return taps
