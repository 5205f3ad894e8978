"""Evaluation reports: a model's predictions on reviews compared with their labels and self-reported scores, as
a ``Report`` that a notebook shows and that saves as JSON + Markdown + plots or as one self-contained HTML page."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from .evaluate import HEADLINE, evaluate_predictions
from .predict import Scorer, as_scorer, predict_batch

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_TITLE = "sentiscore evaluation"


@dataclass
class Report:
    """``metrics`` as ``evaluate.evaluate_predictions`` gives them, and ``plots``: PNG images by file name."""

    metrics: dict
    plots: dict[str, bytes] = field(default_factory=dict)
    title: str = DEFAULT_TITLE

    def table(self) -> pd.DataFrame:
        """The headline metrics as a pandas DataFrame: a row for all reviews and one per domain, with how many
        carry a sentiment (given or from their score) and how many a score."""
        import pandas as pd

        return pd.DataFrame.from_dict(
            {label: {"labelled": m.get("n_sentiment", 0), "scored": m.get("n_score", 0),
                     **{name: m.get(key, float("nan")) for key, name in HEADLINE}}
             for label, m in [("all", self.metrics["overall"]), *self.metrics["by_domain"].items()]},
            orient="index")

    def markdown(self) -> str:
        """The report in Markdown, its plots linked by file name (as ``save`` writes them beside it)."""
        summary, tables, intervals = _sections(self.metrics)
        lines = [f"# {self.title}", "", summary]
        for header, body in tables:
            lines += ["", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
            lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
            if intervals and header[0] == "":
                lines += ["", intervals]
        return "\n".join([*lines, "", *[f"![{name}]({name})" for name in self.plots], ""])

    def save(self, folder: str | Path) -> Path:
        """``metrics.json``, ``report.md`` and the plots, in ``folder``; returns the Markdown file's path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metrics.json").write_text(json.dumps(_json_safe(self.metrics), ensure_ascii=False, indent=2) + "\n")
        for name, image in self.plots.items():
            (folder / name).write_bytes(image)
        path = folder / "report.md"
        path.write_text(self.markdown())
        return path

    def save_html(self, path: str | Path) -> Path:
        """The report as one self-contained HTML file: plots embedded as data URIs, no network needed."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HTML_PAGE.format(title=escape(self.title), style=STYLE, body=self._html_body()),
                        encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return f"<div class=sentiscore-report><style>{SCOPED_STYLE}</style>{self._html_body()}</div>"

    def _html_body(self) -> str:
        summary, tables, intervals = _sections(self.metrics)
        parts = [f"<h1>{escape(self.title)}</h1>", f"<p>{escape(summary)}</p>"]

        def cell(value: str) -> str:
            return f"<td class=text>{escape(value)}</td>" if len(value) > 40 else f"<td>{escape(value)}</td>"

        for header, body in tables:
            parts.append("<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header)
                         + "</tr></thead><tbody>"
                         + "".join("<tr>" + "".join(map(cell, row)) + "</tr>" for row in body) + "</tbody></table>")
            if intervals and header[0] == "":
                parts.append(f"<p>{escape(intervals)}</p>")
        for name, image in self.plots.items():
            parts.append(f'<figure><img alt="{escape(name)}" src="data:image/png;base64,'
                         f'{base64.b64encode(image).decode()}"><figcaption>{escape(name)}</figcaption></figure>')
        return "\n".join(parts)


def evaluate_reviews(rows: Sequence[dict], model: str | Path | Scorer | None = None, *, title: str | None = None,
                     bootstrap_rounds: int = 1000, plots: bool = True) -> Report:
    """Predict the rows (the corpus schema of ``sentiscore.data``: ``text``, ``sentiment``, ``score10``,
    ``domain``) and compare; ``plots=False`` leaves out the images."""
    from .plots import plot_images  # here, not at the top: ``import sentiscore`` stays light

    given = len(rows)
    rows = [row for row in rows if row.get("score10") is not None or row.get("sentiment") is not None]
    if not rows:
        raise ValueError("nothing to evaluate: no row carries a self-reported score or a sentiment label")
    scorer = as_scorer(model)
    predictions = predict_batch([row["text"] for row in rows], scorer)
    metrics = evaluate_predictions(rows, predictions, bootstrap_rounds=bootstrap_rounds)
    metrics["without_truth"] = given - len(rows)
    metrics["model"] = {"name": scorer.name, "version": scorer.version}
    return Report(metrics, plot_images(metrics, rows, predictions) if plots else {},
                  title or f"{scorer.name} evaluation")


def evaluate_file(path: str | Path | Iterable[str | Path], model: str | Path | Scorer | None = None, *,
                  text_column: str | None = None, score_column: str | None = None, score_scale: float = 10.0,
                  sentiment_column: str | None = None, bootstrap_rounds: int = 1000, plots: bool = True) -> Report:
    """The report on a file of reviews, or a glob or folder of them (what ``sentiscore score`` reads): the truth
    is each review's self-reported score ("8 из 10", stripped before the model reads the text), or the columns
    named."""
    from .data import load_reviews
    from .files import input_files

    scorer = as_scorer(model)
    if isinstance(path, (str, Path)):
        files, names = input_files(path), str(path)
    else:
        files = list(path)
        names = ", ".join(map(str, files))
    reviews = load_reviews(files, text_column=text_column, score_column=score_column, score_scale=score_scale,
                           sentiment_column=sentiment_column)
    return evaluate_reviews(list(reviews), scorer, title=f"{scorer.name} on {names}",
                            bootstrap_rounds=bootstrap_rounds, plots=plots)


def _sections(metrics: dict) -> tuple[str, list[tuple[list[str], list[list[str]]]], str]:
    """The report's summary line, its tables (header, rows) and its interval line, for any output format."""
    summary = f"{metrics['n']} reviews, {metrics['unscored']} could not be scored."
    if metrics.get("without_truth"):
        summary += (" Left out, as they carry neither a self-reported score nor a sentiment label: "
                    f"{metrics['without_truth']}.")
    tables = [(["", *(name for _, name in HEADLINE)],
               [[f"{label} (n={m.get('n_sentiment', 0)}, scored {m.get('n_score', 0)})",
                 *(_cell(m.get(key)) for key, _ in HEADLINE)]
                for label, m in [("all", metrics["overall"]), *metrics["by_domain"].items()]])]
    per_class = metrics["overall"].get("per_class")
    if per_class:
        tables.append((["class", "precision", "recall", "support"],
                       [[c, f"{m['precision']:.3f}", f"{m['recall']:.3f}", str(m["support"])]
                        for c, m in per_class.items()]))
    if metrics.get("worst_errors"):
        tables.append((["worst errors: domain", "true", "predicted", "text"],
                       [[e["domain"], _label(e["sentiment"], e["score10"]),
                         _label(e["predicted_sentiment"], e["predicted_score"]), e["text"]]
                        for e in metrics["worst_errors"]]))
    intervals = ""
    if metrics.get("intervals_95"):
        intervals = "95 % bootstrap intervals (all rows): " + ", ".join(
            f"{key} {low:.3f}–{high:.3f}" for key, (low, high) in metrics["intervals_95"].items() if low == low)
    return summary, tables, intervals


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
td.text { max-width: 45em; }
figure { display: inline-block; margin: 1em 2em 1em 0; }
"""
SCOPED_STYLE = """
.sentiscore-report td.text { text-align: left; max-width: 45em; white-space: normal; }
.sentiscore-report figure { display: inline-block; margin: 1em 2em 1em 0; }
"""
"""In a notebook the page's own table style stays; only what the report needs beside it is added."""

HTML_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>{title}</title>
<style>{style}</style></head>
<body>
{body}
</body></html>
"""


def _cell(value) -> str:
    return "–" if value is None or value != value else f"{value:.3f}"


def _json_safe(value):
    """Undefined metrics (NaN) as null: strict JSON readers (browsers, jq) reject NaN."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def _label(sentiment: str | None, score: float | None) -> str:
    return " ".join(part for part in (sentiment, None if score is None else f"{score:g}") if part) or "–"
