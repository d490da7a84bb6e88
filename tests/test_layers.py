"""The package's layers, checked: no module imports from a layer above its own.

The layers, lowest first (see docs/architecture.rst)::

    _kernels  <-  _engine  <-  _io, _pixmaps  <-  _api  <-  _cli

A module may import from its own layer and those below. ``tileblot/__init__``
and ``_version`` stand outside the layers.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tileblot"

# ``demo`` is public: the facade of the command line's demo scene and pictures, on their layer.
LAYERS = {"_kernels": 0, "_engine": 1, "_io": 2, "_pixmaps": 2, "_api": 3, "_cli": 4, "demo": 4}
OUTSIDE = {"__init__", "__main__", "_version"}


def _layer_of(parts):
    """Layer of a module given its path parts inside the package (None: outside the layers)."""
    return LAYERS.get(parts[0]) if parts else None


def _imports(path, root=PACKAGE):
    """``(line, absolute module parts)`` of every tileblot import in ``path`` (under ``root``)."""
    parts = path.relative_to(root).with_suffix("").parts
    package = parts[:-1]  # what "." means, for a module and for a package's __init__ alike
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = (*base, *(node.module.split(".") if node.module else ()))
            elif node.module and node.module.split(".")[0] == "tileblot":
                target = tuple(node.module.split(".")[1:])
            else:
                continue
            names = [alias.name for alias in node.names]
            if not node.module:  # "from . import x": x is a module of that package
                for name in names:
                    yield node.lineno, (*target, name)
            else:
                yield node.lineno, target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tileblot":
                    yield node.lineno, tuple(alias.name.split(".")[1:])


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path):
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    own = _layer_of(parts) if parts[0] not in OUTSIDE else None
    if own is None:
        return
    upward = [
        f"line {line}: imports tileblot.{'.'.join(target)}"
        for line, target in _imports(path)
        if target and target[0] not in OUTSIDE and (_layer_of(target) or 0) > own
    ]
    assert not upward, f"{path.relative_to(PACKAGE)} (layer {own}) " + "; ".join(upward)


def test_every_module_sits_in_a_layer():
    loose = [
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if p.relative_to(PACKAGE).parts[0].removesuffix(".py") not in {*LAYERS, *OUTSIDE}
    ]
    assert not loose, f"modules outside every layer: {loose}"


def test_the_checker_sees_an_upward_import(tmp_path):
    # The rule must be able to fail: a kernel module importing the store is caught.
    fake = tmp_path / "tileblot"
    (fake / "_kernels").mkdir(parents=True)
    bad = fake / "_kernels" / "bad.py"
    bad.write_text("from .._io._store import IMAGE\nfrom . import linear\n")
    found = list(_imports(bad, root=fake))
    assert (1, ("_io", "_store")) in found
    assert (2, ("_kernels", "linear")) in found
    assert _layer_of(("_io", "_store")) > _layer_of(("_kernels", "bad"))


def test_modules_stay_small():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in MODULES
        if (n := len(p.read_text().splitlines())) > 450
    }
    assert not long, f"modules over 450 lines (split them by concern): {long}"
