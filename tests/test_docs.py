"""The documentation: the Sphinx site builds without a warning, the public API's
docstrings pass numpydoc's validation, and the pages agree with the code."""

import inspect
import re
from pathlib import Path

import numpydoc.validate
import pytest

import tileblot
from tileblot._kernels._registry import resolve

DOCS = Path(__file__).resolve().parent.parent / "docs"

PUBLIC_FUNCTIONS = sorted(
    name for name in tileblot.__all__ if inspect.isfunction(getattr(tileblot, name))
)

# numpydoc checks left out: they ask for optional sections (an extended
# summary, See Also, Examples), not for a docstring that matches its function.
OPTIONAL_SECTIONS = {"ES01", "SA01", "EX01"}


def test_sphinx_build_has_no_warnings(built_docs):
    result, root = built_docs
    assert result.returncode == 0, (
        f"sphinx-build failed (exit {result.returncode}):\n{result.stderr}\n{result.stdout[-3000:]}"
    )
    html = root / "html"
    for page in ("index", "concepts", "migration", "clusters", "cli", "api", "performance"):
        assert (html / f"{page}.html").is_file(), page
    # The notebook, executed at build time: its figures are on its page.
    notebook = (html / "blot_mosaic.html").read_text(encoding="utf-8")
    assert notebook.count("<img") >= 3, "the notebook's page shows no figures"
    api = (html / "api.html").read_text(encoding="utf-8")
    for name in PUBLIC_FUNCTIONS:
        assert f'id="tileblot.{name}"' in api, f"tileblot.{name} is missing from the API page"


def test_public_functions_are_found():
    # Guards the parametrisation below against validating nothing.
    assert {"blot_image", "blot", "blot_to_zarr"} <= set(PUBLIC_FUNCTIONS)


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_numpydoc_validation(name):
    result = numpydoc.validate.validate(f"tileblot.{name}")
    errors = [(code, message) for code, message in result["errors"]
              if code not in OPTIONAL_SECTIONS]
    assert not errors, f"tileblot.{name}: " + "; ".join(f"{c} {m}" for c, m in errors)


def test_the_package_shows_only_its_public_names():
    # Its own submodules (tileblot.demo) appear once imported, as in any package.
    shown = {name for name in dir(tileblot) if not name.startswith("_")
             and not getattr(getattr(tileblot, name), "__name__", "").startswith("tileblot.")}
    assert shown == set(tileblot.__all__) - {"__version__"}


def test_api_page_lists_every_public_name():
    api = (DOCS / "api.rst").read_text(encoding="utf-8")
    directive = r"^\.\. (?:autofunction|autoclass|data):: tileblot\.(\w+)\s*$"
    documented = set(re.findall(directive, api, re.M))
    assert documented == set(tileblot.__all__)


def _halo_table():
    """Rows of the interpolator table in concepts.rst: name -> (aliases, halo, min size)."""
    text = (DOCS / "concepts.rst").read_text(encoding="utf-8")
    row = re.compile(r"^``(\w+)``\s+(``\w+``|—)\s+(\d+)\s+(\d+)\s*$", re.M)
    return {
        name: (() if alias == "—" else (alias.strip("`"),), int(halo), int(size))
        for name, alias, halo, size in row.findall(text)
    }


def test_concepts_halo_table_matches_registry():
    table = _halo_table()
    assert list(table) == list(tileblot.INTERPOLATORS)
    for name, (aliases, halo, min_size) in table.items():
        interp = resolve(name)
        assert (interp.aliases, interp.halo, interp.min_size) == (aliases, halo, min_size), name
