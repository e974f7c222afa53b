"""Training, prediction and evaluation: a stock scikit-learn Pipeline over jieba words and
character n-grams, with a calibrated linear SVM on top.

Texts reach the pipeline already normalised (``triage.normalize``); the pipeline itself
only segments and counts, so training and prediction see exactly the same features.
scikit-learn is imported inside the training functions only: answering uses the fitted numbers
in `triage.compact`, so a cold `triage classify` does not pay for importing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from .normalize import normalize
from .segment import words
from .taxonomy import Taxonomy

__all__ = ["Prediction", "build_pipeline", "evaluate_predictions", "predict", "tokenize", "train_pipeline"]


def tokenize(text: str) -> list[str]:
    """Word tokens for the vectorizer (module-level so the pipeline pickles)."""
    return words(text)


def build_pipeline(linear: str = "nbsvm"):
    """An unfitted pipeline: word 1–2-grams + character 1–3-grams → a calibrated linear classifier.

    `linear` is "nbsvm" (the shipped scorer: a LinearSVC plus per-class NB-SVM folded into one linear model,
    `triage.nbsvm`), "svm" (LinearSVC, C 0.5; the notes role model) or "ridge" (least-squares, alpha 0.5);
    all balanced by class.
    Ridge was measured as the product model and not kept: corrections taught it nothing (README, Benchmarks).
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion([
        ("word", TfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False,
                                 ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
        ("char", TfidfVectorizer(analyzer="char", lowercase=False, ngram_range=(1, 3),
                                 min_df=2, sublinear_tf=True, max_features=60000)),
    ])
    if linear not in ("ridge", "svm", "nbsvm"):
        raise ValueError(f"unknown linear classifier {linear!r}")
    if linear == "nbsvm":
        from .nbsvm import NBSVC
        scorer = NBSVC(C=0.5, nb_C=0.5)
    else:
        scorer = (RidgeClassifier(alpha=0.5, class_weight="balanced") if linear == "ridge"
                  else LinearSVC(C=0.5, class_weight="balanced"))
    # ensemble=False keeps one linear model (fitted on all data) so the saved model stays small.
    classifier = CalibratedClassifierCV(scorer, method="sigmoid", cv=3, ensemble=False)
    return Pipeline([("features", features), ("clf", classifier)])


def train_pipeline(texts: Sequence[str], labels: Sequence[str], *, cv: int = 5,
                   progress: Callable[[str], None] | None = None,
                   weights: Sequence[float] | None = None, linear: str = "nbsvm") -> tuple:
    """Fit on normalised texts (optionally weighted); also return cross-validated metrics (cv=0 skips)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    say = progress or (lambda _msg: None)
    metrics: dict = {}
    if cv and min(np.unique(labels, return_counts=True)[1]) >= cv:
        say(f"交叉验证 {cv} 折…")
        folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=0)
        guessed = cross_val_predict(build_pipeline(linear), list(texts), list(labels), cv=folds)
        metrics = evaluate_predictions(list(labels), list(guessed), sorted(set(labels)))
        metrics = {"cv_folds": cv, "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
                   "per_class": metrics["per_class"]}
    say("训练最终模型…")
    fit_params = {"clf__sample_weight": np.asarray(weights, dtype=float)} if weights is not None else {}
    pipeline = build_pipeline(linear).fit(list(texts), list(labels), **fit_params)
    return pipeline, metrics


@dataclass(frozen=True)
class Prediction:
    """The model's reading of one message."""

    category: str
    secondary: tuple[str, ...]
    confidence: float
    margin: float
    needs_review: bool
    explanation: tuple[str, ...]
    scores: dict
    precedence: str = ""


def _row(matrix, i: int) -> tuple:
    # CSR row i as (indices, data) views: slicing the matrix itself costs ~50 µs a row
    start, end = matrix.indptr[i], matrix.indptr[i + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def predict(engine, taxonomy: Taxonomy, texts: Iterable[str], *, normalized: bool = False,
            features=None) -> list[Prediction]:
    """Classify texts with a `triage.compact.Compact`; apply precedence rules and the review threshold.

    `features` may be passed when the caller already has `engine.features` of these texts.
    """
    clean = [t if normalized else normalize(t) for t in texts]
    if not clean:
        return []
    if features is None:
        features = engine.features(clean)
    proba = engine.proba(features)
    labels = engine.classes
    fallback = taxonomy.fallback.code if taxonomy.fallback else None
    out = []
    for i, text in enumerate(clean):
        p = proba[i]
        order = np.argsort(-p)
        primary = labels[order[0]]
        confidence = float(p[order[0]])
        margin = confidence - float(p[order[1]]) if len(order) > 1 else confidence
        secondary = [labels[j] for j in order[1:] if p[j] >= taxonomy.secondary_threshold and labels[j] != fallback]
        applied = ""
        known = features.indptr[i + 1] > features.indptr[i]
        if not known:  # empty, emoji-only or no word the model has ever seen: nothing to go on
            primary, secondary, confidence, margin = fallback or primary, [], 0.0, 0.0
        for rule in taxonomy.precedence:
            if primary in rule.over and rule.prefer in labels and rule.matches(text):
                secondary = [primary] + [s for s in secondary if s not in (primary, rule.prefer)]
                primary, applied = rule.prefer, rule.note or rule.prefer
                break
        out.append(Prediction(
            category=primary,
            secondary=tuple(secondary),
            confidence=round(confidence, 4),
            margin=round(margin, 4),
            needs_review=confidence < taxonomy.review_threshold,
            explanation=engine.explain(_row(features, i), labels.index(primary)) if known else (),
            scores={labels[j]: round(float(p[j]), 4) for j in order[:3]},
            precedence=applied,
        ))
    return out


def evaluate_predictions(truth: Sequence[str], guessed: Sequence[str], labels: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = list(labels)
    p, r, f, s = precision_recall_fscore_support(truth, guessed, labels=labels, zero_division=0)
    present = [lab for lab in labels if lab in set(truth)]
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, guessed)), 4),
        "macro_f1": round(float(f1_score(truth, guessed, labels=present, average="macro", zero_division=0)), 4),
        "per_class": {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                            "f1": round(float(f[i]), 4), "support": int(s[i])} for i, lab in enumerate(labels)},
        "labels": labels,
        "confusion": confusion_matrix(truth, guessed, labels=labels).tolist(),
    }
