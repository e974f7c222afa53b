"""Teddy 2020 C: variants of the pipeline, each measured by 5-fold CV on the training set and on the test set.

The shipped pipeline misses the 0.92 target by a little. This script records what else was tried, so
the README's claim ("nothing we tried moves the cross-validated figure by more than its noise") can
be checked. Variants are chosen by CV on the training set, never by the test set.
Writes the table into README.md between the teddy-variants markers.

    .venv/bin/python bench/teddy_variants.py
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import SHARED, machine  # noqa: E402


def main() -> int:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, RidgeClassifier
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    from triage.classify import tokenize
    from triage.normalize import normalize

    folder = SHARED / "teddy2020c"
    if not (folder / "train.jsonl").is_file():
        print("skipped: ../shared/data/teddy2020c absent")
        return 0
    read = lambda name: [json.loads(l) for l in (folder / name).read_text(encoding="utf-8").splitlines() if l.strip()]
    train, test = read("train.jsonl"), read("test.jsonl")
    xa, ya = [normalize(r["text"]) for r in train], np.array([r["label"] for r in train])
    xb, yb = [normalize(r["text"]) for r in test], np.array([r["label"] for r in test])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(xa, ya))
    macro = lambda y, g: f1_score(y, g, average="macro")

    def block(min_df=2, texts=None, **kw):  # fitted on the training texts only
        vec = TfidfVectorizer(lowercase=False, sublinear_tf=True, min_df=min_df, **kw)
        ta, tb = texts or (xa, xb)
        return vec.fit_transform(ta), vec.transform(tb)

    word12 = block(tokenizer=tokenize, token_pattern=None, ngram_range=(1, 2))
    word13 = block(tokenizer=tokenize, token_pattern=None, ngram_range=(1, 3))
    word12_all = block(min_df=1, tokenizer=tokenize, token_pattern=None, ngram_range=(1, 2))
    word1 = block(tokenizer=tokenize, token_pattern=None, ngram_range=(1, 1))
    char13 = block(analyzer="char", ngram_range=(1, 3), max_features=60000)
    char14 = block(analyzer="char", ngram_range=(1, 4))
    char24 = block(analyzer="char", ngram_range=(2, 4))
    # the opening of a letter, after the greeting ("尊敬的…：您好！"), as a title-like block of its own
    greeting = re.compile(r"^(?:尊敬的[^，。：:！!]{0,20}[：:，,！!]?\s*)?(?:(?:你|您)好[！!，,。]?\s*)?")
    heads = tuple([greeting.sub("", t)[:60] for t in xs] for xs in (xa, xb))
    head12 = block(texts=heads, tokenizer=tokenize, token_pattern=None, ngram_range=(1, 2))
    head13 = block(texts=heads, analyzer="char", ngram_range=(1, 3), max_features=60000)
    half = lambda blk: tuple(m * 0.5 for m in blk)
    join = lambda *blocks: tuple(sparse.hstack([b[i] for b in blocks]).tocsr() for i in (0, 1))

    svm = lambda c=0.5: (lambda: LinearSVC(C=c, class_weight="balanced"))
    ridge = lambda: RidgeClassifier(alpha=0.5, class_weight="balanced")
    logreg = lambda: LogisticRegression(C=20, class_weight="balanced", max_iter=2000)

    def scores(make, a, y, b):
        model = make().fit(a, y)
        s = model.decision_function(b)
        return model.classes_, (s - s.mean()) / s.std()

    def measure(feats, makes, bias=False):
        """CV macro-F1 on train and test macro-F1; `makes` are averaged (standardised decision scores).

        An element of `makes` may be (features, make): that model sees its own features instead of `feats`."""
        parts = [m if isinstance(m, tuple) else (feats, m) for m in makes]
        cv_scores = np.zeros((len(ya), len(np.unique(ya))))
        for tr, va in folds:
            for (a, _), make in parts:
                classes, s = scores(make, a[tr], ya[tr], a[va])
                cv_scores[va] += s / len(parts)
        test_scores = sum(scores(make, a, ya, b)[1] for (a, b), make in parts) / len(parts)
        shift = np.zeros(len(classes))
        if bias == "nested":  # fair: each fold's offsets are tuned on the other four folds only
            guess = np.empty(len(ya), dtype=object)
            for tr, va in folds:
                guess[va] = classes[(cv_scores[va] + offsets(cv_scores[tr], ya[tr], classes)).argmax(1)]
            shift = offsets(cv_scores, ya, classes)
            return macro(ya, guess), macro(yb, classes[(test_scores + shift).argmax(1)])
        if bias:  # per-class offsets that maximise CV macro-F1 (tuned and scored on the same folds: flattering)
            shift = offsets(cv_scores, ya, classes)
        return (macro(ya, classes[(cv_scores + shift).argmax(1)]), macro(yb, classes[(test_scores + shift).argmax(1)]))

    def offsets(scores, y, classes, span=0.5, steps=21):
        """Per-class offsets that maximise macro-F1 on these scores (coordinate search within ±span)."""
        shift, grid = np.zeros(len(classes)), np.linspace(-span, span, steps)
        for _ in range(2):
            for k in range(len(classes)):
                def f(v, k=k):
                    trial = shift.copy()
                    trial[k] = v
                    return macro(y, classes[(scores + trial).argmax(1)]), -abs(v)
                shift[k] = max(grid, key=f)
        return shift

    def calibrated_nested():
        """The product's own pipeline (calibrated probabilities), with per-class offsets judged by nested CV."""
        from sklearn.model_selection import cross_val_predict

        from triage.classify import build_pipeline

        outer = StratifiedKFold(5, shuffle=True, random_state=0)
        proba = cross_val_predict(build_pipeline(), xa, ya, cv=outer, method="predict_proba")
        classes = np.array(sorted(set(ya)))
        test = build_pipeline().fit(xa, ya).predict_proba(xb)
        plain = (macro(ya, classes[proba.argmax(1)]), macro(yb, classes[test.argmax(1)]))
        guess = np.empty(len(ya), dtype=object)
        for tr, va in folds:
            guess[va] = classes[(proba[va] + offsets(proba[tr], ya[tr], classes, 0.3, 25)).argmax(1)]
        shift = offsets(proba, ya, classes, 0.3, 25)
        return plain, (macro(ya, guess), macro(yb, classes[(test + shift).argmax(1)]))

    from triage.nbsvm import NBSVC

    nbsvm = lambda **kw: (lambda: NBSVC(**kw))
    variants = [
        ("shipped: word 1–2 + char 1–3 (60k), linear SVM + NB-SVM folded (C 0.5)", join(word12, char13), [nbsvm()], False),
        ("plain linear SVM C 0.5 (shipped until 2026-11-26)", join(word12, char13), [svm()], False),
        ("linear SVM C 1.0", join(word12, char13), [svm(1.0)], False),
        ("NB-SVM alone (plain SVM weighed 1e-6)", join(word12, char13), [nbsvm(nb_weight=1e6)], False),
        ("NB-SVM weighed 0.5", join(word12, char13), [nbsvm(nb_weight=0.5)], False),
        ("NB-SVM weighed 0.3", join(word12, char13), [nbsvm(nb_weight=0.3)], False),
        ("NB-SVM weighed 2", join(word12, char13), [nbsvm(nb_weight=2)], False),
        ("NB-SVM smoothing 0.25 instead of 1", join(word12, char13), [nbsvm(alpha=0.25)], False),
        ("char 1–4, all n-grams (plain SVM)", join(word12, char14), [svm()], False),
        ("word unigrams + char 1–3 (plain SVM)", join(word1, char13), [svm()], False),
        ("ridge instead of SVM", join(word12, char13), [ridge], False),
        ("SVM and ridge, scores averaged", join(word12, char13), [svm(), ridge], False),
        ("shipped + per-class offsets tuned on CV (tuned and scored on the same folds)", join(word12, char13), [nbsvm()], True),
        ("shipped + per-class offsets, judged by nested CV", join(word12, char13), [nbsvm()], "nested"),
        # tried in the sixth session (2026-11-26), none better in CV
        ("NB-SVM, its SVM part C 1 (nb_C)", join(word12, char13), [nbsvm(nb_C=1.0)], False),
        ("NB-SVM, word 1–3-grams", join(word13, char13), [nbsvm()], False),
        ("NB-SVM, words seen once kept (min_df 1)", join(word12_all, char13), [nbsvm()], False),
        ("three NB-SVMs averaged (smoothing 1 and 0.25, nb_C 1)", join(word12, char13),
         [nbsvm(), nbsvm(alpha=0.25), nbsvm(nb_C=1.0)], False),
        ("logistic regression C 20", join(word12, char13), [logreg], False),
        # tried in the seventh session (2026-11-26), none better in CV
        ("an NB-SVM on words and one on characters, averaged", None, [(word12, nbsvm()), (char13, nbsvm())], False),
        ("shipped + a linear SVM on char 2–4-grams, averaged", join(word12, char13),
         [nbsvm(), (char24, svm())], False),
        ("shipped features + the letter's first 60 characters as a block of their own (weight 0.5)",
         join(word12, char13, half(head12), half(head13)), [nbsvm()], False),
    ]
    lines = []
    for name, feats, makes, bias in variants:
        start = time.perf_counter()
        cv, held = measure(feats, makes, bias)
        lines.append(f"| {name} | {cv:.3f} | {held:.3f} |")
        print(lines[-1], f"({time.perf_counter() - start:.0f} s)", flush=True)
    start = time.perf_counter()
    plain, nested = calibrated_nested()
    lines.append(f"| the product's calibrated pipeline as it answers | {plain[0]:.3f} | {plain[1]:.3f} |")
    lines.append(f"| … with per-class offsets on its probabilities, judged by nested CV | {nested[0]:.3f} | {nested[1]:.3f} |")
    print(*lines[-2:], f"({time.perf_counter() - start:.0f} s)", sep="\n", flush=True)
    table = "\n".join([
        f"Measured {dt.date.today()} on {machine()} by `bench/teddy_variants.py` (5-fold CV on the "
        f"{len(train)} training letters; test = the {len(test)} test letters). Target: test macro-F1 ≥ 0.92.", "",
        "| variant | CV macro-F1 (train) | test macro-F1 |", "|---|---|---|", *lines, ""])
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if "<!-- teddy-variants:start -->" in text:
        head, rest = text.split("<!-- teddy-variants:start -->", 1)
        _, tail = rest.split("<!-- teddy-variants:end -->", 1)
        readme.write_text(f"{head}<!-- teddy-variants:start -->\n{table}<!-- teddy-variants:end -->{tail}",
                          encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
