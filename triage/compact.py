"""Inference without importing scikit-learn: the fitted pipeline's numbers in plain arrays.

Training uses a stock scikit-learn Pipeline (word + character TF-IDF → calibrated linear SVM).
For answering, we keep only what the fitted pipeline computes with — vocabularies, idf weights,
SVM coefficients and the sigmoid calibration — and apply them here. This saves the ~0.8 s that
importing scikit-learn costs every `triage classify`, and per-call input validation in the
service. `export` refuses pipelines of any other shape; a test keeps the results equal to
scikit-learn's own `predict_proba` (and the features to its `transform`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import repeat
from operator import add

import numpy as np
from scipy import sparse

__all__ = ["Compact", "export"]

_WHITE = re.compile(r"\s\s+")


def char_grams(text: str) -> list[str]:
    """Character 1–3-grams as scikit-learn's `analyzer="char"` makes them (white space squeezed)."""
    t = _WHITE.sub(" ", text)
    pairs = list(map(add, t, t[1:]))
    return [*t, *pairs, *map(add, pairs, t[2:])]


def word_grams(text: str) -> list[str]:
    """Our jieba tokens and their space-joined bigrams (scikit-learn's word 1–2-grams)."""
    from .classify import tokenize

    tokens = tokenize(text)
    return [*tokens, *map(add, map(add, tokens, repeat(" ")), tokens[1:])]


ANALYZERS = {"word12": word_grams, "char13": char_grams}


@dataclass
class Compact:
    """A fitted text classifier as plain arrays: TF-IDF blocks, linear scores, sigmoid calibration."""

    classes: list[str]
    blocks: list[tuple[str, dict, np.ndarray]]  # (analyzer key, vocabulary, idf) per TF-IDF block
    coef: np.ndarray
    intercept: np.ndarray
    cal_a: np.ndarray
    cal_b: np.ndarray
    _names: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def width(self) -> int:
        return sum(len(v) for _, v, _ in self.blocks)

    def features(self, texts: list[str]) -> sparse.csr_matrix:
        """Sublinear-tf × idf, l2-normalised per block, blocks side by side (as FeatureUnion does)."""
        out = []
        n = len(texts)
        for key, vocab, idf in self.blocks:
            grams, get = ANALYZERS[key], vocab.get
            # dict lookups and the unknown-gram filter both run in C (map + fromiter + a mask)
            found = [np.fromiter(map(get, grams(text), repeat(-1)), dtype=np.int64) for text in texts]
            cols = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
            rows = np.repeat(np.arange(n), [len(f) for f in found])
            known = cols >= 0
            m = sparse.coo_matrix((np.ones(int(known.sum())), (rows[known], cols[known])),
                                  shape=(n, len(vocab))).tocsr()  # duplicates are summed: term counts
            m.sort_indices()
            np.log(m.data, out=m.data)
            m.data += 1.0
            m.data *= idf[m.indices]
            rows = np.repeat(np.arange(n), np.diff(m.indptr))
            norms = np.sqrt(np.bincount(rows, weights=m.data ** 2, minlength=n))
            norms[norms == 0] = 1.0
            m.data /= norms[rows]
            out.append(m)
        return sparse.hstack(out, format="csr")

    def proba(self, features) -> np.ndarray:
        """Calibrated class probabilities (one-vs-rest sigmoids, normalised), as CalibratedClassifierCV."""
        scores = np.asarray(features @ self.coef.T) + self.intercept
        p = 1.0 / (1.0 + np.exp(self.cal_a * scores + self.cal_b))
        if len(self.classes) == 2 and p.shape[1] == 1:  # two categories: one score, for the second class
            return np.hstack([1.0 - p, p])
        total = p.sum(axis=1, keepdims=True)
        return np.where(total == 0, 1.0 / p.shape[1], p / np.where(total == 0, 1.0, total))

    def names(self) -> np.ndarray:
        """Feature names, built on first use (only explanations need them)."""
        if self._names is None:
            self._names = (np.concatenate([_terms(vocab) for _, vocab, _ in self.blocks]) if self.blocks
                           else np.empty(0, dtype=object))
        return self._names

    def explain(self, row, label_index: int, top: int = 5) -> tuple[str, ...]:
        """The words that pushed this row towards the label (largest weight × tf-idf).

        `row` is a one-row sparse matrix or an (indices, data) pair from a CSR matrix. jieba words
        come first, since staff read them as reasons; character n-grams ("号楼电", "充电,") only fill
        in when fewer than two words weigh in, and never with punctuation in them.
        """
        indices, data = row if isinstance(row, tuple) else (row.indices, row.data)
        weights = self.coef[label_index] if len(self.coef) > 1 else self.coef[0] * (1 if label_index else -1)
        contrib = data * weights[indices]
        names = self.names()
        words_end = len(self.blocks[0][1]) if self.blocks and self.blocks[0][0] == "word12" else 0
        positive = np.flatnonzero(contrib > 0)
        is_word = indices[positive] < words_end
        picked: list[str] = []
        for group, limit in ((positive[is_word], top), (positive[~is_word], min(top, 2))):
            for i in group[np.argsort(-contrib[group])]:
                if len(picked) >= limit:
                    break
                name = names[indices[i]].replace(" ", "")
                if len(name) < 2 or not name.isalnum() or any(name in p or p in name for p in picked):
                    continue
                picked.append(name)
        return tuple(picked)


def _terms(vocab: dict) -> np.ndarray:
    """A vocabulary's terms in column order (the vocabulary maps term → column)."""
    terms = np.empty(len(vocab), dtype=object)
    for term, column in vocab.items():
        terms[column] = term
    return terms


def to_arrays(engines: dict[str, "Compact | None"]) -> dict[str, np.ndarray]:
    """Plain numeric and text arrays for `np.savez_compressed`: loading them runs no code (unlike pickle)."""
    out: dict[str, np.ndarray] = {}
    for name, c in engines.items():
        if c is None:
            continue
        out[f"{name}/classes"] = np.array(c.classes, dtype=str)
        for key in ("coef", "intercept", "cal_a", "cal_b"):
            out[f"{name}/{key}"] = np.asarray(getattr(c, key), dtype=np.float64)
        out[f"{name}/analyzers"] = np.array([key for key, _, _ in c.blocks], dtype=str)
        for i, (_, vocab, idf) in enumerate(c.blocks):
            out[f"{name}/vocab{i}"] = _terms(vocab).astype(str)
            out[f"{name}/idf{i}"] = np.asarray(idf, dtype=np.float64)
    return out


def from_arrays(arrays) -> dict[str, "Compact | None"]:
    """The engines `to_arrays` wrote; ValueError when an array is missing or of the wrong shape."""
    names = {key.split("/", 1)[0] for key in arrays.files}
    engines: dict[str, Compact | None] = {"model": None, "roles": None}
    for name in names:
        get = lambda key: arrays[f"{name}/{key}"]  # noqa: E731
        analyzers = [str(a) for a in get("analyzers")]
        if any(a not in ANALYZERS for a in analyzers):
            raise ValueError(f"unknown analyzer in {name}")
        blocks = []
        for i, key in enumerate(analyzers):
            terms, idf = get(f"vocab{i}"), get(f"idf{i}")
            if idf.ndim != 1 or len(idf) != len(terms):
                raise ValueError(f"{name}: vocabulary and idf differ in length")
            blocks.append((key, dict(zip(terms.tolist(), range(len(terms)))), idf))
        classes = [str(c) for c in get("classes")]
        coef, intercept, cal_a, cal_b = (get(k) for k in ("coef", "intercept", "cal_a", "cal_b"))
        width = sum(len(v) for _, v, _ in blocks)
        rows = 1 if len(classes) == 2 else len(classes)  # two categories: one row of weights
        if coef.shape != (rows, width) or any(a.shape != (rows,) for a in (intercept, cal_a, cal_b)):
            raise ValueError(f"{name}: array shapes do not fit {len(classes)} classes × {width} features")
        engines[name] = Compact(classes, blocks, np.asfortranarray(coef), intercept, cal_a, cal_b)
    if engines["model"] is None:
        raise ValueError("no model engine")
    return engines


def export(pipeline) -> Compact:
    """The numbers of a fitted `triage.classify.build_pipeline()`; ValueError for any other shape."""
    from .classify import tokenize

    union, clf = pipeline.named_steps["features"], pipeline.named_steps["clf"]
    if union.transformer_weights or len(clf.calibrated_classifiers_) != 1 or clf.method != "sigmoid" \
            or len(clf.classes_) < 2:
        raise ValueError("pipeline shape not supported by the compact form")
    blocks = []
    for _, vec in union.transformer_list:
        if vec.lowercase or vec.preprocessor or vec.stop_words or vec.binary or vec.norm != "l2" \
                or not vec.use_idf or not vec.sublinear_tf:
            raise ValueError("vectorizer settings not supported by the compact form")
        if vec.analyzer == "char" and vec.ngram_range == (1, 3):
            key = "char13"
        elif vec.analyzer == "word" and vec.tokenizer is tokenize and vec.ngram_range == (1, 2):
            key = "word12"
        else:
            raise ValueError("analyzer not supported by the compact form")
        blocks.append((key, {str(k): int(v) for k, v in vec.vocabulary_.items()}, np.asarray(vec.idf_, dtype=float)))
    calibrated = clf.calibrated_classifiers_[0]
    svm = calibrated.estimator
    return Compact(
        classes=[str(c) for c in clf.classes_],
        blocks=blocks,
        # Fortran order makes coef.T C-contiguous, which sparse @ dense needs to be fast (2.5× for ridge)
        coef=np.asfortranarray(svm.coef_, dtype=float),
        intercept=np.asarray(svm.intercept_, dtype=float),
        cal_a=np.array([c.a_ for c in calibrated.calibrators], dtype=float),
        cal_b=np.array([c.b_ for c in calibrated.calibrators], dtype=float),
    )


class PipelineEngine:
    """The same interface over a scikit-learn pipeline of another shape (e.g. a two-category taxonomy)."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.classes = [str(c) for c in pipeline.classes_]

    def features(self, texts: list[str]):
        return self.pipeline[:-1].transform(texts).tocsr()

    def proba(self, features) -> np.ndarray:
        return self.pipeline[-1].predict_proba(features)

    def explain(self, row, label_index: int, top: int = 5) -> tuple[str, ...]:
        return ()


def engine_for(pipeline):
    """The compact form when the pipeline has our shape, else a thin wrapper around it."""
    try:
        return export(pipeline)
    except (ValueError, AttributeError, KeyError):
        return PipelineEngine(pipeline)
