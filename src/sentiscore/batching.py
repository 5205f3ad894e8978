"""Grouping reviews by length into batches of bounded size, shared by training and inference."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def length_batches(window_counts: np.ndarray, widths: np.ndarray, batch_tokens: int, *,
                   rng: np.random.Generator | None = None) -> Iterator[np.ndarray]:
    """Indices of reviews in batches whose padded size (windows × widest window) stays under ``batch_tokens``.

    Reviews are sorted by length so that little padding is computed; with ``rng`` widths are jittered within a
    window count and the batches come in random order (training), otherwise longest first (inference: the slowest
    batch shows early).
    """
    if rng is None and (window_counts == 1).all():  # inference's windows: whole batches at once
        order = np.argsort(-widths, kind="stable")
        start = 0
        while start < len(order):  # the widest window first, so a batch holds as many as fit at its width
            end = start + max(1, batch_tokens // int(widths[order[start]]))
            yield order[start:end]
            start = end
        return
    jitter = rng.uniform(0.95, 1.05, size=len(widths)) if rng is not None else 1.0
    keys = window_counts * 100_000 + widths * jitter
    order = np.argsort(-keys, kind="stable")
    batches, current, windows, widest = [], [], 0, 0
    for index in order:
        new_windows, new_widest = windows + window_counts[index], max(widest, widths[index])
        if current and new_windows * new_widest > batch_tokens:
            batches.append(np.array(current))
            current, new_windows, new_widest = [], window_counts[index], widths[index]
        current.append(index)
        windows, widest = new_windows, new_widest
    if current:
        batches.append(np.array(current))
    if rng is not None:
        rng.shuffle(batches)
    yield from batches
