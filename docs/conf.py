"""Sphinx configuration for tileblot's documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
No network is needed: intersphinx is off and the theme ships with Sphinx.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Document the working tree's package even when it is not installed.
sys.path.insert(0, str(HERE.parent))

import tileblot  # noqa: E402

project = "tileblot"
author = "The tileblot developers"
copyright = "the tileblot developers"
version = release = tileblot.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
]

root_doc = "index"
exclude_patterns = ["_build"]
templates_path = []
# _static holds only the performance plot, which may not exist yet (git keeps
# no empty folders).
html_static_path = ["_static"] if (HERE / "_static").is_dir() else []
html_theme = "alabaster"
html_title = f"tileblot {release}"

# autodoc and numpydoc: signatures as written, no member tables, no
# autosummary stubs (the API page lists what is public by hand).
autodoc_member_order = "bysource"
autodoc_typehints = "none"
# Show defaults as written in the source (drizzle's deprecated arguments
# default to a private sentinel whose repr means nothing to a reader).
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# The performance plot comes from a benchmark run. Until it exists, the
# performance page shows a marked placeholder where the image goes, instead
# of failing the build on a missing file.
PERFORMANCE_PLOT = "_static/performance.png"
PLOT_PLACEHOLDER = f"""\
.. admonition:: Placeholder

   The plot, ``docs/{PERFORMANCE_PLOT}``, is made from the benchmark runs
   and has not been added yet.
"""


def _placeholder_for_missing_plot(app, docname, source):
    if docname != "performance" or (HERE / PERFORMANCE_PLOT).exists():
        return
    lines = source[0].splitlines(keepends=True)
    start = next(k for k, line in enumerate(lines)
                 if line.startswith(f".. image:: {PERFORMANCE_PLOT}"))
    stop = start + 1
    while stop < len(lines) and (lines[stop].startswith(" ") or not lines[stop].strip()):
        stop += 1
    lines[start:stop] = [PLOT_PLACEHOLDER, "\n"]
    source[0] = "".join(lines)


def setup(app):
    app.connect("source-read", _placeholder_for_missing_plot)
