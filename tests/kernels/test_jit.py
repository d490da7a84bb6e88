"""Every compiled kernel function takes its numba options from ``_jit``: wrappers only where
Python calls in (they are most of a small function's cold compile time)."""

import importlib
import pkgutil

import pytest
from numba import njit
from numba.core.registry import CPUDispatcher

import tileblot._kernels
from tileblot._kernels import _jit, _lanczos_exact, _loop, poly
from tileblot._kernels._registry import INTERPOLATORS, resolve

# The INLINED helpers: numbers in, numbers out (see _jit).
INLINED_NUMBERS_ONLY = {("_lanczos_exact", "weights6"), ("_lanczos_exact", "weights10"),
                        ("_lanczos_exact", "fold"), ("_lanczos_exact", "in_order6"),
                        ("_lanczos_exact", "in_order10"), ("lanczos", "_whole_table"),
                        ("lanczos", "_whole_exact"), ("poly", "_cubic_weights"),
                        ("poly", "_quintic_weights")}


def _compiled_functions():
    """``(module, name, dispatcher)`` of every non-inlined numba function in the kernels."""
    found = []
    for info in pkgutil.iter_modules(tileblot._kernels.__path__):
        module = importlib.import_module(f"tileblot._kernels.{info.name}")
        for name, value in vars(module).items():
            if (isinstance(value, CPUDispatcher) and value.__module__ == module.__name__
                    and value.targetoptions.get("inline", "never") == "never"):
                found.append((info.name, name, value))
    return found


def _python_callable():
    """What Python calls: the entry points and the bounding-box scans."""
    entries = {resolve(name).entry_point(precision) for name in INTERPOLATORS
               for precision in ("drizzle", "high")}
    return entries | {_loop._bbox_drizzle, _loop._bbox_high}


def _helpers():
    return [found for found in _compiled_functions() if found[2] not in _python_callable()]


def test_entry_points_keep_the_python_wrapper_only():
    entries = _python_callable()
    assert len(entries) == 16
    for dispatcher in entries:
        options = dispatcher.targetoptions
        for key, value in _jit.ENTRY.items():
            if key != "cache":  # numba keeps cache=True out of targetoptions
                assert options[key] == value, (dispatcher, key)
        assert not options.get("no_cpython_wrapper", False), dispatcher
        assert dispatcher._cache.__class__.__name__ == "FunctionCache", dispatcher


def test_every_compiled_function_is_an_entry_point_or_a_helper():
    names = {name for _, name, _ in _helpers()}
    assert {"_nearest_general", "_poly_edge", "_table_general"} <= names
    assert len(names) + len(_python_callable()) == len(_compiled_functions())


@pytest.mark.parametrize(("module", "name", "dispatcher"), _helpers(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_helpers_have_no_wrappers_and_are_cached(module, name, dispatcher):
    options = dispatcher.targetoptions
    assert options["no_cpython_wrapper"] and options["no_cfunc_wrapper"] and options["nogil"]
    if options.get("forceinline"):  # INLINED: numbers in, numbers out
        assert (module, name) in INLINED_NUMBERS_ONLY
    assert dispatcher._cache.__class__.__name__ == "FunctionCache", (module, name)


def test_helper_options_extend_entry_options():
    assert _jit.HELPER == {**_jit.ENTRY, "no_cpython_wrapper": True}
    assert _jit.INLINED == {**_jit.HELPER, "forceinline": True}
    assert _jit.ENTRY["cache"] and _jit.ENTRY["nogil"] and _jit.ENTRY["no_cfunc_wrapper"]


def test_llvm_inlines_inlined_helpers_into_their_callers():
    """What makes INLINED as fast as inline="always": no call is left in the machine code."""

    @njit(fastmath=_lanczos_exact.HIGH_FLAGS)
    def caller(s):
        return (_lanczos_exact.weights6(s)[1] + _lanczos_exact.weights10(s)[2]
                + poly._cubic_weights(s)[0] + poly._quintic_weights(s)[3])

    caller(0.25)
    llvm = caller.inspect_llvm(caller.signatures[0])
    calls = [line for line in llvm.splitlines() if " call " in line and "weights" in line]
    assert not calls, calls[:2]
