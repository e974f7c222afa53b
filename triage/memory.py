"""Corrections that take effect at once: a message nearly identical to one staff corrected gets
the corrected category, before any retraining.

12345 callers ring again about the same thing, and a batch of tickets often holds one complaint
several times. Retraining takes a while and a single correction barely moves a linear model (see
the learning curve in the README); this memory does not wait for either. Similarity is the
cosine of the model's own TF-IDF features, so "3号楼电梯又坏了" matches "3号楼的电梯又坏了！"
but not "5号楼电梯坏了" below the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .normalize import normalize

__all__ = ["CorrectionMemory", "Recall", "SIMILAR"]

SIMILAR = 0.9  # cosine above which two messages are "the same complaint"


@dataclass(frozen=True)
class Recall:
    """The corrected message a new one repeats, and how closely."""

    category: str | None  # None when staff only handed it over (its category nobody corrected)
    similarity: float
    text: str
    owner: str | None = None  # the 责任主体 staff handed it to, when they changed it by hand
    owner_category: str | None = None  # the category it had when they did: the handover holds for that one


def _unit_rows(matrix):
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    from scipy import sparse

    return sparse.diags(1.0 / norms) @ matrix


class CorrectionMemory:
    """Corrected (text, category) pairs, or (text, category, owner) when staff also handed it to another
    owner, matched by feature cosine; the latest label and the latest owner of a text win."""

    def __init__(self, engine, pairs: Iterable[tuple], threshold: float = SIMILAR):
        latest: dict[str, list] = {}
        for text, category, *rest in pairs:
            if text and text.strip():
                key = normalize(text)
                seen = latest.get(key) or [text, None, None, None]
                if rest and rest[0]:  # (text, category it had, owner): a handover, not a label
                    latest[key] = [text, seen[1], rest[0], category]
                else:
                    latest[key] = [text, category, seen[2], seen[3]]
        self.engine = engine
        self.threshold = threshold
        self.texts = [t for t, _, _, _ in latest.values()]
        self.categories = [c for _, c, _, _ in latest.values()]
        self.owners = [o for _, _, o, _ in latest.values()]
        self.owner_categories = [c for _, _, _, c in latest.values()]
        self._matrix = _unit_rows(engine.features(list(latest))).T.tocsr() if latest else None

    def __len__(self) -> int:
        return len(self.texts)

    def recall(self, normalized: Sequence[str], features=None, chunk: int = 256) -> list[Recall | None]:
        """For each normalised text, the corrected message it repeats (cosine ≥ threshold), if any.

        `features` may be passed when the caller already has `engine.features(normalized)`.
        """
        out: list[Recall | None] = [None] * len(normalized)
        if self._matrix is None or not normalized:
            return out
        for start in range(0, len(normalized), chunk):
            part = list(normalized[start:start + chunk])
            rows = self.engine.features(part) if features is None else features[start:start + chunk]
            sims = (_unit_rows(rows) @ self._matrix).toarray()
            best = sims.argmax(axis=1)
            for i, j in enumerate(best):
                if part[i].strip() and sims[i, j] >= self.threshold:
                    out[start + i] = Recall(self.categories[j], round(float(sims[i, j]), 4), self.texts[j],
                                            self.owners[j], self.owner_categories[j])
        return out
