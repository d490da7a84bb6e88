"""The numba options of the kernels' compiled functions, in one place.

For every function it compiles, numba also builds, optimises and emits machine
code for two wrappers: one that Python calls (it unboxes the arguments) and one
with the C calling convention (for first-class function calls and ``cfunc``).
On a cold start that is most of the cost of a small function: a one-line
helper took 0.3 s to compile with them, and the wrappers of one entry point
and its helpers about 1 s of a 2.6 s first ``nearest`` call (measured with
numba 0.68.1). The kernels need only the first, and only on entry points:

- :data:`ENTRY`: entry points and anything else Python calls (the bounding-box
  scan): no C wrapper.
- :data:`HELPER`: functions only compiled code calls (the general paths and
  their parts): no wrapper at all. Python cannot call them: numba would pass
  the call to a wrapper that does not exist, and the process crashes. Test
  them through an entry point, or through an ``inline="always"`` function
  that calls them (compiled with wrappers when Python calls it).

- :data:`INLINED`: a helper as :data:`HELPER` that LLVM inlines into every
  caller (``alwaysinline``), for hot code: numba types and lowers it once,
  shared by all its callers, where ``inline="always"`` copies and retypes the
  callee at every call site (the bulk of an entry point's compile time). The
  machine code is the same as with ``inline="always"``; a plain call would not
  be inlined by LLVM, and costs a call, its status check and its tuple in
  memory per pixel. For functions of numbers only (no arrays, whose
  reference counts a call does not let numba prune).

All are ``nogil`` and disk-cached (``cache=True``) where numba can write its cache
(:data:`tileblot._kernels.CACHE_DIR`): with nowhere to write (a read-only install, cache
folder and home, as in some containers), ``cache=True`` made numba refuse to define them,
and every command failed, ``tileblot --version`` included.
"""

from . import CACHE_DIR

ENTRY = {"nogil": True, "cache": CACHE_DIR is not None, "no_cfunc_wrapper": True}
HELPER = {**ENTRY, "no_cpython_wrapper": True}
INLINED = {**HELPER, "forceinline": True}
