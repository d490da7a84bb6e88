"""The notebooks run from top to bottom, without errors, and draw their pictures."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("myst_nb")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["blot_mosaic.ipynb"])
def test_notebook_runs_and_draws(name, built_docs):
    committed = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert not any(cell.get("outputs") for cell in committed.cells
                   if cell.cell_type == "code"), f"{name} is committed with outputs; clear them"
    # Run by the docs build (myst-nb executes it from top to bottom, in a fresh kernel).
    result, root = built_docs
    assert result.returncode == 0, f"the docs build (which runs {name}) failed:\n{result.stderr}"
    notebook = nbformat.read(root / "jupyter_execute" / name, as_version=4)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert code == [cell.source for cell in committed.cells if cell.cell_type == "code"]
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    images = [out for out in outputs
              if out.output_type == "display_data" and "image/png" in out.get("data", {})]
    assert len(images) >= 3  # mosaic and footprints, every blot on the sky, zoom and residual
    stderr = "".join(out.get("text", "") for out in outputs if out.get("name") == "stderr")
    assert "Warning" not in stderr, stderr


@pytest.mark.parametrize("name", ["blot_mosaic.ipynb"])
def test_notebook_uses_public_api_only(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "import tileblot" in code
    private = sorted({line.strip() for line in code.splitlines() if "tileblot._" in line})
    assert not private, f"{name} reaches into private modules: {private}"


def test_docs_render_the_notebook():
    # The docs page is the notebook itself (a link), executed by myst-nb at build time.
    page = NOTEBOOKS.parent / "docs" / "blot_mosaic.ipynb"
    assert page.resolve() == (NOTEBOOKS / "blot_mosaic.ipynb").resolve()
