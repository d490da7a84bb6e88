"""Checks shared by every entry point: bad input gets a clear error naming it."""

import math
import numbers
import os

import numpy as np

from .._kernels._registry import check_precision, resolve
from ._tile import BlotParams

_REAL_KINDS = "biuf"

#: float32's largest finite value: a finite ``fillval`` or ``iscale`` beyond it becomes inf.
FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_LARGEST = str(np.finfo(np.float32).max)  # as numpy prints it: 3.4028235e+38

#: The largest ``sinscl`` whose sinc weights still interpolate. The kernel evaluates its
#: tapered 15-tap formula at ``sinscl * d`` pixels from the nearest pixel, ``|d| <= 1/2``; the
#: taper vanishes at the outer taps (+-7), so as ``sinscl * d`` nears them the normalised
#: weights turn into an extrapolation whose sum nearly cancels. Their worst-case gain
#: ``max sum |w|`` (noise amplification; 1.97 at ``sinscl = 1``) is 2.5 at 8, 3.2 at 10, then
#: 5.9 at 11, 32 at 13, 98 at 14, 7e8 at 100 (values near 4e9 from unit-variance data).
SINSCL_MAX = 10.0


def check_flags(**flags):
    """``TypeError`` unless each flag is ``True`` or ``False`` (numpy's bool too).

    Read by truth, a string from a configuration file (``overwrite="False"``) is
    true: it replaced an existing output.
    """
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {value!r}")


def check_real_dtype(name, dtype):
    """Raise ``TypeError`` unless ``dtype`` is a real numeric dtype."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {dtype}")
    if dtype.kind not in _REAL_KINDS:
        raise TypeError(f"{name} must have a real numeric dtype, got {dtype}")


def _check_known_shape(name, shape):
    # A dask array cut by a mask has NaN sizes: nothing can be planned on them.
    if any(isinstance(n, float) and math.isnan(n) for n in shape):
        raise ValueError(
            f"{name} has unknown chunk sizes (shape {tuple(shape)}): call its "
            "compute_chunk_sizes() first"
        )


def check_data(data):
    """Check that ``data`` looks like a 2-D, non-empty, real image; return its shape."""
    shape = getattr(data, "shape", None)
    dtype = getattr(data, "dtype", None)
    if shape is None or dtype is None:
        raise TypeError(
            f"data must be a 2-D array (numpy, zarr, dask, ...), got {type(data).__name__}"
        )
    _check_known_shape("data", shape)
    if len(shape) != 2:
        raise ValueError(f"data must be 2-D, got {len(shape)}-D with shape {tuple(shape)}")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"data is empty: shape {tuple(shape)}")
    check_real_dtype("data", dtype)
    return int(shape[0]), int(shape[1])


def check_pixmap(pixmap):
    """Check that ``pixmap`` has shape ``(ny, nx, 2)`` and a real dtype; return ``(ny, nx)``."""
    shape = getattr(pixmap, "shape", None)
    dtype = getattr(pixmap, "dtype", None)
    if shape is None or dtype is None:
        raise TypeError(
            f"pixmap must be an array of shape (ny, nx, 2), got {type(pixmap).__name__}"
        )
    _check_known_shape("pixmap", shape)
    if len(shape) != 3 or shape[2] != 2:
        raise ValueError(f"pixmap must have shape (ny, nx, 2), got {tuple(shape)}")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"pixmap is empty: shape {tuple(shape)}")
    check_real_dtype("pixmap", dtype)
    return int(shape[0]), int(shape[1])


def check_min_size(interp, shape):
    """Raise ``ValueError`` if the image is smaller than the interpolator's stencil."""
    if min(shape) < interp.min_size:
        raise ValueError(
            f"interp {interp.name!r} needs an image of at least {interp.min_size} x "
            f"{interp.min_size} pixels, got {shape[0]} x {shape[1]}"
        )


def as_float(name, value, *, finite=False, positive=False):
    """Return ``value`` as a Python float, or raise a ``TypeError``/``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond any float
        raise ValueError(f"{name} is beyond the range of a float") from None
    if finite and not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _check_sinscl_range(name, value):
    if value > SINSCL_MAX:
        raise ValueError(
            f"{name} must be at most {SINSCL_MAX:g}, got {value:g}: beyond it the sinc kernel "
            "evaluates its 15 taps outside their span and returns garbage"
        )
    return value


def check_sinscl(sinscl, sincscl=None):
    """Resolve ``sinscl`` and its alias ``sincscl`` into one positive finite float.

    Its upper limit, :data:`SINSCL_MAX`, is checked only for sinc (see :func:`interp_options`):
    drizzle takes any positive ``sinscl`` with the other interpolators, which ignore it.
    """
    value = as_float("sinscl", 1.0 if sinscl is None else sinscl, finite=True, positive=True)
    if sincscl is None:
        return value
    alias = as_float("sincscl", sincscl, finite=True, positive=True)
    if value != 1.0 and value != alias:
        raise ValueError(f"sinscl={sinscl} and its alias sincscl={sincscl} disagree; pass only one")
    return alias


def sequence_array(name, value):
    """``value``, nested lists or tuples of numbers, as a numpy array; a ragged nesting is a
    ``ValueError`` and items that are not numbers a ``TypeError``, each naming ``name``."""
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged
        raise ValueError(f"{name} is not a rectangular array: {error}") from None
    if array.dtype == object:
        raise TypeError(f"{name} must be numeric, got {type(value).__name__} of "
                        "non-numeric items")
    return array


def available_cores():
    """Cores this process may run on (its affinity mask where the OS has one).

    dask's ``dask.system.CPU_COUNT`` says the same, but importing it loads
    dask, which the eager ``blot_image`` path never needs.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_fillval(fillval):
    """``fillval`` as a float that float32 holds: finite within its range, or NaN or +-inf.

    NaN and infinities are kept (an explicit choice); a finite value beyond float32's range
    would silently become inf in the float32 output, so it is refused.
    """
    value = as_float("fillval", fillval)
    if math.isfinite(value) and not _in_float32(value):
        raise ValueError(
            f"fillval must fit float32 (at most {_FLOAT32_LARGEST} in magnitude, or nan or "
            f"inf), got {value!r}"
        )
    return value


def check_iscale(iscale, name="iscale"):
    """``iscale`` as a finite float within float32's range (a larger one makes every pixel inf)."""
    value = as_float(name, iscale, finite=True)
    if not _in_float32(value):
        raise ValueError(f"{name} must be within float32's range (at most "
                         f"{_FLOAT32_LARGEST} in magnitude), got {value!r}")
    return value


def _in_float32(value):
    """Whether the finite ``value`` stays finite in float32: a value just past float32's
    largest (``3.4028235e38``, as numpy prints that largest) rounds to it, as drizzle's does."""
    with np.errstate(over="ignore"):
        return bool(np.isfinite(np.float32(value)))


def check_num_threads(num_threads):
    """``None`` or a positive integer."""
    if num_threads is None:
        return None
    if isinstance(num_threads, bool) or not isinstance(num_threads, numbers.Integral):
        raise TypeError(f"num_threads must be a positive integer or None, got {num_threads!r}")
    if num_threads < 1:
        raise ValueError(f"num_threads must be at least 1, got {num_threads}")
    return int(num_threads)


def interp_options(interp, *, sinscl=1.0, sincscl=None):
    """The options ``interp`` has, validated, as sorted ``(name, value)`` pairs.

    ``sinscl`` (and its alias ``sincscl``) is checked whatever the
    interpolator, as drizzle's argument always is, but only sinc keeps it.
    """
    given = {"sinscl": check_sinscl(sinscl, sincscl)}
    options = tuple(sorted((name, given[name]) for name, _ in interp.options))
    if "sinscl" in dict(options):
        _check_sinscl_range("sinscl" if sincscl is None else "sincscl", given["sinscl"])
    return options


def make_params(*, interp, fillval, iscale, sinscl=1.0, sincscl=None, precision):
    """Validated :class:`BlotParams` from a user's keywords."""
    interp = resolve(interp)
    return BlotParams(
        interp,
        check_fillval(fillval),
        check_iscale(iscale),
        check_precision(precision),
        interp_options(interp, sinscl=sinscl, sincscl=sincscl),
    )
