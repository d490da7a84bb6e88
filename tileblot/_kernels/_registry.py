"""The one registry of interpolators: names, aliases, halos, options, entry points.

Only this module turns a user's ``interp`` string into an interpolator, and
only an :class:`Interpolator` hands out its numba entry points: one per
precision, each a module global of its kernel module (so numba's disk cache
finds it again in every new process), compiled on first use only.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import lanczos, linear, nearest, poly, sinc
from ._cache import call
from ._canonical import (
    canonical_patch,
    canonical_pixmap_rect,
    canonical_state,
    check_out,
    map_pages,
)
from ._layout import SCRATCH_SIZE

_NO_STATE = np.empty(0, dtype=np.float64)
_NO_STATE.flags.writeable = False

PRECISIONS = ("drizzle", "high")


def _no_state():
    return _NO_STATE


def _lanczos3_state():
    return lanczos.lanczos_state(3)


def _lanczos5_state():
    return lanczos.lanczos_state(5)


def _sinc_state(sinscl):
    return sinc.sinc_state(sinscl)


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
    entry_points : mapping
        ``{precision: numba entry point}``, see :mod:`tileblot._kernels._loop`.
    make_state : callable
        ``make_state(**options) -> float64 array``: per-call constants.
    options : tuple of (str, float)
        The interpolator's own options and their defaults (sinc's
        ``(("sinscl", 1.0),)``, empty for the others): the keywords of
        ``make_state``.
    """

    name: str
    aliases: tuple[str, ...]
    halo: int
    min_size: int
    entry_points: Mapping = field(repr=False)
    make_state: Callable = field(repr=False)
    options: tuple[tuple[str, float], ...] = ()

    def entry_point(self, precision):
        """The numba entry point for ``precision`` (``"drizzle"`` or ``"high"``)."""
        return self.entry_points[check_precision(precision)]

    def state(self, **options):
        """Constants the kernel needs, built once outside the pixel loop.

        ``options`` are the interpolator's own (see :attr:`options`); missing
        ones take their defaults and unknown ones raise ``TypeError``.
        """
        defaults = dict(self.options)
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            known = ", ".join(defaults) or "none"
            raise TypeError(f"{self.name} has no option {unknown[0]!r} (options: {known})")
        return self.make_state(**{**defaults, **options})

    def kernel(self, patch, y0, x0, height, width, pixmap, out, fillval, iscale, state,
               drizzle):
        """Blot ``pixmap`` from ``patch`` into ``out`` with the entry point of the precision.

        Arguments as in :mod:`tileblot._kernels._loop`, plus ``drizzle``
        (``True``: precision "drizzle"). The arrays are first brought to the
        canonical types of :mod:`tileblot._kernels._canonical` (copying only
        for another dtype, byte order or layout; a pixmap that is a view of a
        C-ordered array is read in place), so that only those are ever
        compiled. ``out`` is written in place and must be a C-contiguous,
        writeable float32 array of the pixmap's shape.
        """
        parent, j0, i0 = canonical_pixmap_rect(pixmap)
        check_out(out, np.shape(pixmap)[:2])
        entry = self.entry_points["drizzle" if drizzle else "high"]
        args = (canonical_patch(patch, drizzle), int(y0), int(x0), int(height), int(width),
                parent, j0, i0, out, float(fillval), float(iscale), canonical_state(state),
                np.zeros(SCRATCH_SIZE))
        # Last, once every argument is good: an argument refused leaves ``out`` as it was.
        map_pages(out)
        call(entry, *args)
        return out

    def __reduce__(self):
        # Tasks travel to dask workers by name; the worker's registry
        # supplies the (already compiled, disk-cached) kernel.
        return resolve, (self.name,)


def _entries(drizzle, high):
    return MappingProxyType({"drizzle": drizzle, "high": high})


_SINC_OPTIONS = (("sinscl", 1.0),)

_INTERPOLATORS = (
    Interpolator("nearest", (), 1, 1,
                 _entries(nearest.blot_nearest_drizzle, nearest.blot_nearest_high), _no_state),
    Interpolator("linear", ("bilinear",), 1, 1,
                 _entries(linear.blot_linear_drizzle, linear.blot_linear_high), _no_state),
    Interpolator("poly3", (), 2, 3,
                 _entries(poly.blot_poly3_drizzle, poly.blot_poly3_high), _no_state),
    Interpolator("poly5", (), 3, 4,
                 _entries(poly.blot_poly5_drizzle, poly.blot_poly5_high), _no_state),
    Interpolator("sinc", (), 8, 1,
                 _entries(sinc.blot_sinc_drizzle, sinc.blot_sinc_high), _sinc_state,
                 _SINC_OPTIONS),
    # Rounding of x +/- n in float32 can reach one pixel further: halo n + 1.
    Interpolator("lan3", ("lanczos3",), 4, 1,
                 _entries(lanczos.blot_lan3_drizzle, lanczos.blot_lan3_high), _lanczos3_state),
    Interpolator("lan5", ("lanczos5",), 6, 1,
                 _entries(lanczos.blot_lan5_drizzle, lanczos.blot_lan5_high), _lanczos5_state),
)

_BY_NAME = {
    alias: interp for interp in _INTERPOLATORS for alias in (interp.name, *interp.aliases)
}

#: Canonical interpolator names, in drizzle's order.
INTERPOLATORS = tuple(interp.name for interp in _INTERPOLATORS)


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
