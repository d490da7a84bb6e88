"""The notebooks run from top to bottom, without errors, and draw their pictures."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["blot_mosaic.ipynb"])
def test_notebook_runs_and_draws(name, monkeypatch, tmp_path):
    # jupyter_core warns (DeprecationWarning) unless told to use the platformdirs paths.
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{name} is committed with outputs; clear them"
    )
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    images = [out for out in outputs
              if out.output_type == "display_data" and "image/png" in out.get("data", {})]
    assert len(images) >= 3  # mosaic, blotted exposure, residual
    stderr = "".join(out.get("text", "") for out in outputs if out.get("name") == "stderr")
    assert "Warning" not in stderr, stderr
