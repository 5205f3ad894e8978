"""Several saved models read together: their sentiment probabilities averaged, the score from one of them.

The fine-tuned encoder and the lexical model err on different reviews. Averaging their sentiment probabilities
with equal weights (not tuned) was better than either alone on the dev split and on five of seven held-out
corpora (models/README.md); the score stays the encoder's, whose distribution also gives the interval.
Averaging blunts the probabilities (the average of a confident and a hesitant member is hesitant), so the average
is sharpened by a temperature fitted on held-out reviews of other domains (scripts/calibrate.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .predict import Scorer, ScorerBase, load_model, resolve_model_path

FORMAT = "sentiscore-ensemble"
FORMAT_VERSION = 1
CONFIG_FILE = "ensemble.json"


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities raised to 1/``temperature`` and renormalised: below 1 sharpens, above 1 softens; the most
    probable class never changes."""
    logits = np.log(np.clip(probabilities, 1e-12, 1.0)) / temperature
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def member_path(ensemble: str | Path, member: str) -> Path:
    """Where a member of a saved ensemble lives: a folder inside the ensemble's, or a shipped model by name."""
    inside = Path(ensemble) / member
    return inside if inside.is_dir() else resolve_model_path(member)


class Ensemble(ScorerBase):
    """Members' sentiment probabilities averaged with ``weights`` and calibrated by ``temperature``; score and
    interval from ``members[score_from]``."""

    def __init__(self, members: Sequence[Scorer], weights: Sequence[float] | None = None, score_from: int = 0,
                 name: str = "sentiscore-ensemble", version: str = "1.0", temperature: float = 1.0) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        weights = np.full(len(members), 1.0 / len(members)) if weights is None else np.asarray(weights, float)
        if len(weights) != len(members) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"need one non-negative weight per member, got {list(weights)}")
        if not temperature > 0:
            raise ValueError(f"the temperature must be positive, not {temperature}")
        self.members = list(members)
        self.weights = weights / weights.sum()
        self.score_from = score_from
        self.name, self.version = name, version
        self.temperature = float(temperature)

    def prepare(self, texts: Sequence[str]) -> list[object]:
        return [member.prepare(texts) for member in self.members]

    def run(self, prepared: list[object], progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        outputs = [member.run(part, progress) for member, part in zip(self.members, prepared)]
        _, scores, intervals = outputs[self.score_from]
        return self.combine([p for p, _, _ in outputs]).astype(np.float32), scores, intervals

    def combine(self, member_probabilities: Sequence[np.ndarray]) -> np.ndarray:
        """The ensemble's sentiment probabilities from its members', in the members' order."""
        return with_temperature(self.average(member_probabilities), self.temperature)

    def average(self, member_probabilities: Sequence[np.ndarray]) -> np.ndarray:
        """The members' probabilities averaged with the ensemble's weights, before the temperature."""
        return sum(w * np.asarray(p, dtype=np.float64) for w, p in zip(self.weights, member_probabilities))

    @staticmethod
    def is_saved_at(path: str | Path) -> bool:
        return (Path(path) / CONFIG_FILE).is_file()

    def save(self, path: str | Path, member_names: Sequence[str]) -> None:
        """The ensemble's recipe: its members by shipped name or folder, which are saved on their own."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / CONFIG_FILE).write_text(json.dumps(
            {"format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name, "version": self.version,
             "members": list(member_names), "weights": self.weights.tolist(), "score_from": self.score_from,
             "temperature": self.temperature},
            indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", precision: str = "auto") -> Ensemble:
        path = Path(path)
        config = json.loads((path / CONFIG_FILE).read_text())
        if config.get("format") != FORMAT or config.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path} holds {config.get('format')} v{config.get('format_version')}, "
                             f"not {FORMAT} v{FORMAT_VERSION}")
        members = [load_model(member_path(path, m), device, precision) for m in config["members"]]
        return cls(members, config["weights"], config["score_from"], config["name"], config["version"],
                   config.get("temperature", 1.0))
