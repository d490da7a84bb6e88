"""The one registry of interpolators: names, aliases, halos, kernels.

Only this module turns a user's ``interp`` string into an interpolator.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .lanczos import blot_lanczos, lanczos_state
from .linear import blot_linear
from .nearest import blot_nearest
from .poly import blot_poly3, blot_poly5
from .sinc import blot_sinc, sinc_state

_NO_STATE = np.empty(0, dtype=np.float64)


def _no_state():
    return _NO_STATE


def _lanczos3_state():
    return lanczos_state(3)


def _lanczos5_state():
    return lanczos_state(5)


@dataclass(frozen=True)
class Interpolator:
    """One interpolation method and what the engine must know about it.

    Attributes
    ----------
    name : str
        Canonical name, as tileblot reports it (``"lan3"``, ...).
    aliases : tuple of str
        Other accepted spellings (drizzle 3.0's ``"lanczos3"``, ...).
    halo : int
        How far, in pixels, the kernel may read beyond
        ``floor`` of the bounding box of the coordinates it interpolates,
        on every side, edge reflections included. Planning pads each
        tile's window by this much.
    min_size : int
        Smallest image side the stencil is defined for.
    kernel : callable
        numba entry point, see :mod:`tileblot._kernels._loop`.
    make_state : callable
        ``make_state(**options) -> float64 array``: per-call constants.
    options : tuple of (str, float)
        The interpolator's own options and their defaults (sinc's
        ``sinscl``); ``make_state`` takes them as keywords.
    """

    name: str
    aliases: tuple[str, ...]
    halo: int
    min_size: int
    kernel: Callable = field(repr=False)
    make_state: Callable = field(repr=False)
    options: tuple[tuple[str, float], ...] = ()

    def state(self, **options):
        """Constants the kernel needs, built once outside the pixel loop."""
        return self.make_state(**{**dict(self.options), **options})

    def __reduce__(self):
        # Tasks travel to dask workers by name; the worker's registry
        # supplies the (already compiled, disk-cached) kernel.
        return resolve, (self.name,)


_INTERPOLATORS = (
    Interpolator("nearest", (), 1, 1, blot_nearest, _no_state),
    Interpolator("linear", ("bilinear",), 1, 1, blot_linear, _no_state),
    Interpolator("poly3", (), 2, 3, blot_poly3, _no_state),
    Interpolator("poly5", (), 3, 4, blot_poly5, _no_state),
    Interpolator("sinc", (), 8, 1, blot_sinc, sinc_state, (("sinscl", 1.0),)),
    # Rounding of x +/- n in float32 can reach one pixel further: halo n + 1.
    Interpolator("lan3", ("lanczos3",), 4, 1, blot_lanczos, _lanczos3_state),
    Interpolator("lan5", ("lanczos5",), 6, 1, blot_lanczos, _lanczos5_state),
)

_BY_NAME = {
    alias: interp for interp in _INTERPOLATORS for alias in (interp.name, *interp.aliases)
}

#: Canonical interpolator names, in drizzle's order.
INTERPOLATORS = tuple(interp.name for interp in _INTERPOLATORS)

PRECISIONS = ("drizzle", "high")


def resolve(interp):
    """Return the :class:`Interpolator` for a name or alias.

    Raises
    ------
    TypeError
        If ``interp`` is not a string.
    ValueError
        If no interpolator has that name.
    """
    if not isinstance(interp, str):
        raise TypeError(f"interp must be a string, got {type(interp).__name__}")
    try:
        return _BY_NAME[interp.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise ValueError(f"unknown interp {interp!r}; choose one of: {known}") from None


def check_precision(precision):
    """Return ``precision`` if it is ``"drizzle"`` or ``"high"``, else raise ``ValueError``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be 'drizzle' or 'high', got {precision!r}")
    return precision
