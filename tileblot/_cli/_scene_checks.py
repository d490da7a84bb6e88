"""What ``tileblot.demo``'s functions refuse: bad input gets a ``TypeError`` or ``ValueError``
naming it, as on every entry point (numpy's, astropy's or matplotlib's errors came from deep
inside them, and a count of 10^9 ran for good)."""

import numbers

import numpy as np

from .._engine._validation import as_float

#: The largest mosaic side :func:`~tileblot.demo.make_scene` makes (4 GiB of float32 pixels).
MAX_SIZE = 32768
#: The most of anything counted (stars, galaxies, exposures, cosmic rays).
MAX_COUNT = 10**6


def _scalar(value):
    # A 0-d array (np.array(64)) is the number it holds.
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value


def count(name, value, *, minimum=0, maximum=MAX_COUNT):
    """``value`` as an int in ``[minimum, maximum]``."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be from {minimum} to {maximum}, got {value}")
    return int(value)


def real(name, value, *, positive=False, low=None, high=None):
    """``value`` as a finite float (``> 0`` if ``positive``; at least ``low``, at most
    ``high``)."""
    value = as_float(name, value, finite=True, positive=positive)
    if low is not None and value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be at most {high}, got {value}")
    return value


def generator(rng):
    """``rng`` if it is a numpy ``Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng()), "
                        f"got {rng!r}")
    return rng


def image(name, value):
    """``value`` as a 2-D real numpy array (not copied when it is one)."""
    array = np.asarray(value)
    if array.ndim != 2 or array.dtype.kind not in "biuf" or 0 in array.shape:
        raise ValueError(f"{name} must be a non-empty 2-D array of numbers, got "
                         f"{array.dtype} of shape {array.shape}")
    return array


def has(name, value, *attributes):
    """``TypeError`` unless ``value`` has each of ``attributes`` (an Exposure, a Scene...)."""
    missing = [a for a in attributes if not hasattr(value, a)]
    if missing:
        raise TypeError(f"{name} must have {', '.join(attributes)} (see tileblot.demo), got "
                        f"{type(value).__name__}")
