"""The registry: names, aliases, halos and per-call state of the interpolators."""

import math

import numpy as np
import pytest

from tileblot import INTERPOLATORS, PRECISIONS
from tileblot._kernels import lanczos, linear
from tileblot._kernels._layout import LANCZOS_ORDER, SINC_SCALE, SINC_TAPER
from tileblot._kernels._registry import Interpolator, check_precision, resolve


def test_interpolators_in_drizzle_order_plus_sinc():
    assert INTERPOLATORS == ("nearest", "linear", "poly3", "poly5", "sinc", "lan3", "lan5")
    assert PRECISIONS == ("drizzle", "high")


@pytest.mark.parametrize("name", INTERPOLATORS)
def test_resolve_by_name_any_case_and_spacing(name):
    interp = resolve(name)
    assert isinstance(interp, Interpolator) and interp.name == name
    assert resolve(f"  {name.upper()} ") is interp


@pytest.mark.parametrize(
    ("alias", "name"), [("lanczos3", "lan3"), ("lanczos5", "lan5"), ("bilinear", "linear")]
)
def test_aliases(alias, name):
    assert resolve(alias) is resolve(name)
    assert alias in resolve(name).aliases


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="unknown interp 'cubic'") as info:
        resolve("cubic")
    for name in INTERPOLATORS:
        assert name in str(info.value)


@pytest.mark.parametrize("bad", [None, 3, b"poly5", ["poly5"]])
def test_non_string_name_is_a_type_error(bad):
    with pytest.raises(TypeError, match="interp must be a string"):
        resolve(bad)


@pytest.mark.parametrize(
    ("name", "halo", "min_size"),
    [("nearest", 1, 1), ("linear", 1, 1), ("poly3", 2, 3), ("poly5", 3, 4), ("sinc", 8, 1),
     ("lan3", 4, 1), ("lan5", 6, 1)],
)
def test_halo_covers_the_stencil_and_min_size(name, halo, min_size):
    """The halo must reach every pixel of the stencil: nearest/linear one pixel, poly3/poly5
    two/three (odd reflection reads as far again inside), sinc 7 taps around the rounded
    position, Lanczos n plus one for float32 rounding of x +/- n."""
    interp = resolve(name)
    assert interp.halo == halo
    assert interp.min_size == min_size


def test_lanczos_state_is_drizzles_table():
    for name, order in [("lan3", 3), ("lan5", 5)]:
        state = resolve(name).state()
        assert state.dtype == np.float64
        assert state[LANCZOS_ORDER] == order
        # The table closes the state array (what precedes it is the kernel's business).
        lut = state[-(math.ceil(order / 0.003) + 1):]
        assert lut[0] == 1.0
        for k in (1, 17, 333, 999, len(lut) - 1):
            u = k * 0.003
            pu = math.pi * u
            expected = math.sin(pu) * math.sin(pu / order) / (pu * (pu / order))
            if u > order:  # drizzle's table is zero past the kernel's support
                expected = 0.0
            assert lut[k] == pytest.approx(expected, abs=1e-15)


def test_sinc_state_holds_sinscl_and_taper():
    state = resolve("sinc").state(sinscl=1.7)
    assert state[SINC_SCALE] == 1.7 and len(state) == 16
    k = np.arange(-7, 8)
    z = (np.pi * k / 14) ** 2
    taper = (-1.0) ** k * (1 - 0.49670 * z + 0.03705 * z**2) ** 2
    np.testing.assert_allclose(state[SINC_TAPER:], taper)


@pytest.mark.parametrize("name", ["nearest", "linear", "poly3", "poly5"])
def test_stateless_interpolators_have_empty_state(name):
    assert resolve(name).state().size == 0


def test_check_precision():
    assert check_precision("high") == "high"
    assert check_precision("drizzle") == "drizzle"
    for bad in ("HIGH", "float64", None):
        with pytest.raises(ValueError, match="precision must be 'drizzle' or 'high'"):
            check_precision(bad)


@pytest.mark.parametrize("name", INTERPOLATORS)
def test_one_entry_point_per_precision_a_module_global(name):
    """Each entry point is a distinct numba dispatcher, found as a global of its module (what
    numba's disk cache needs to hit in a new process)."""
    interp = resolve(name)
    entries = [interp.entry_point(precision) for precision in PRECISIONS]
    assert len(set(map(id, entries))) == 2
    for entry in entries:
        module = __import__(entry.py_func.__module__, fromlist=["_"])
        assert getattr(module, entry.__name__) is entry
    with pytest.raises(ValueError, match="precision must be"):
        interp.entry_point("double")


def test_one_entry_point_per_lanczos_order():
    assert resolve("lan3").entry_point("high") is lanczos.blot_lan3_high
    assert resolve("lan5").entry_point("high") is lanczos.blot_lan5_high
    assert resolve("lan3").entry_point("drizzle") is lanczos.blot_lan3_drizzle
    assert resolve("linear").entry_point("drizzle") is linear.blot_linear_drizzle


def test_options_describe_each_interpolators_state():
    assert dict(resolve("sinc").options) == {"sinscl": 1.0}
    for name in ("nearest", "linear", "poly3", "poly5", "lan3", "lan5"):
        assert dict(resolve(name).options) == {}
    sinc = resolve("sinc")
    np.testing.assert_array_equal(sinc.state(), sinc.make_state(sinscl=1.0))
    assert sinc.state(sinscl=2.5)[SINC_SCALE] == 2.5
    with pytest.raises(TypeError, match="sinc has no option 'order'"):
        sinc.state(order=3)
    with pytest.raises(TypeError, match="lan3 has no option 'sinscl'"):
        resolve("lan3").state(sinscl=2.0)
