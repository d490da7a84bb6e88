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
# default to a private sentinel).
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
