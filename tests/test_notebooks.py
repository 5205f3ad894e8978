"""The committed notebooks, re-executed on the bundled example so that they cannot rot."""

from pathlib import Path

import nbformat
import pytest

from sentiscore.data import load_reviews
from sentiscore.evaluate import evaluate_predictions
from sentiscore.predict import DEFAULT_MODEL, predict_batch

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

pytestmark = pytest.mark.slow


def execute(name: str, tmp_path: Path) -> list[dict]:
    import papermill

    output = tmp_path / name
    papermill.execute_notebook(NOTEBOOKS / name, output, parameters={"DATA": "example"}, cwd=str(NOTEBOOKS),
                               kernel_name="python3", progress_bar=False)
    return [out for cell in nbformat.read(output, 4).cells if cell.cell_type == "code" for out in cell.outputs]


def texts(outputs: list[dict]) -> str:
    return "\n".join(out.get("text", "") + out.get("data", {}).get("text/plain", "")
                     + out.get("data", {}).get("text/markdown", "") for out in outputs)


def images(outputs: list[dict]) -> int:
    return sum("image/png" in out.get("data", {}) for out in outputs)


def test_evaluation_notebook_reports_every_model_on_the_example(tmp_path):
    outputs = execute("evaluation.ipynb", tmp_path)
    shown = texts(outputs)
    models = (DEFAULT_MODEL, "sentiscore-e5-ru", "sentiscore-e5-fast-lite", "sentiscore-lite")
    assert all(name in shown for name in (*models, "lemmatised text"))
    # Confusion, scores, errors, reliability and the per-corpus bars are drawn.
    assert images(outputs) >= 5
    rows = [row for row in load_reviews(ROOT / "data" / "example_reviews.csv") if row["score10"] is not None]
    default = evaluate_predictions(rows, predict_batch([r["text"] for r in rows]), bootstrap_rounds=0)["overall"]
    assert f"score MAE **{default['mae']:.2f}**" in shown
    assert f"ECE {default['ece']:.3f}" in shown


def test_batch_scoring_notebook_scores_every_row_of_the_example(tmp_path):
    outputs = execute("batch_scoring.ipynb", tmp_path)
    shown = texts(outputs)
    assert f"12 rows scored by {DEFAULT_MODEL}" in shown
    assert "empty" in shown and "not_russian" in shown  # unscorable rows are kept and flagged
    assert "Тихая гавань" in shown and images(outputs) >= 2
