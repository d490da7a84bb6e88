"""Sphinx configuration for tileblot's documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
No network is needed: intersphinx is off and the theme ships with Sphinx.
"""

import os
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
    "myst_nb",
]

# myst-nb renders the notebook (docs/blot_mosaic.ipynb, a link to notebooks/) with its
# figures: it is committed without outputs and executed at every build, in a temporary
# directory, so the page always shows what the code does today. A failing cell, or anything
# on stderr (a warning), fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_in_temp = True
nb_execution_raise_on_error = True
nb_output_stderr = "warn"
# jupyter_core warns (DeprecationWarning) in every kernel it starts unless told to use the
# platformdirs paths.
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

root_doc = "index"
exclude_patterns = ["_build", "jupyter_execute"]
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
