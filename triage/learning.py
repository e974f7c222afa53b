"""Learning from staff corrections: build a candidate model, measure it against the current one
on the same held-out data, and decide whether it may replace it.

Held-out data = a fixed share of the base training examples plus a fixed share of the corrections.
No model ever trains on either: `triage train` already keeps the same base share out of the shipped
model. Shares are decided by a hash of the normalised text, so a text stays on the same side
across retrains and the comparison is fair to both models.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Sequence

from .classify import evaluate_predictions
from .examples import Example, data_hash
from .model import Model, train_model
from .normalize import normalize

__all__ = ["HOLDOUT_SHARE", "Gate", "RetrainResult", "fingerprint", "held_out", "merge_corrections", "retrain"]

HOLDOUT_SHARE = 0.1  # of the base training examples, kept out of every model for fair comparison


@dataclass(frozen=True)
class Gate:
    """Promotion rule: macro-F1 may not fall by more than `tolerance`, no class F1 by more than `max_class_drop`."""

    tolerance: float = 0.005
    max_class_drop: float = 0.05
    # on our own held-out examples alone, corrections may not unlearn the taxonomy (per class looser: few examples)
    base_tolerance: float = 0.02
    base_class_drop: float = 0.15
    base_eval_share: float = HOLDOUT_SHARE
    correction_eval_share: float = 0.25
    correction_weight: float = 3.0


@dataclass(frozen=True)
class RetrainResult:
    """A trained candidate and the verdict of the gate."""

    candidate: Model
    promoted: bool
    reason: str
    candidate_metrics: dict
    current_metrics: dict
    n_train: int
    n_eval: int
    n_corrections: int


def _share(text: str) -> float:
    return int(hashlib.sha1(normalize(text).encode("utf-8")).hexdigest()[:8], 16) / 0x100000000


def held_out(text: str, share: float) -> bool:
    """True when this text belongs to the held-out share (stable across runs)."""
    return _share(text) < share


def merge_corrections(corrections: Sequence[Example]) -> list[Example]:
    """One example per normalised text; for conflicting labels the latest (last) wins."""
    latest: dict[str, Example] = {}
    for e in corrections:
        latest[normalize(e.text)] = e
    return list(latest.values())


def _compare(cand: dict, cur: dict, gate: Gate, base: tuple[dict, dict] | None = None) -> tuple[bool, str]:
    """The gate. `base` is (candidate, current) on the held-out base examples alone.

    The held-out corrections carry the same labels as those trained on, so a batch of wrong labels
    (parking complaints imported as 宠物管理) would pass on them; the base examples, labelled by the
    taxonomy, catch it.
    """
    if cand["macro_f1"] < cur["macro_f1"] - gate.tolerance:
        return False, f"macro-F1 下降：候选 {cand['macro_f1']:.4f} < 当前 {cur['macro_f1']:.4f}"
    if drop := _class_drop(cand, cur, gate.max_class_drop):
        return False, drop
    if base is not None:
        b_cand, b_cur = base
        if b_cand["macro_f1"] < b_cur["macro_f1"] - gate.base_tolerance:
            return False, (f"在按分类标准标注的留出样本上 macro-F1 下降：{b_cur['macro_f1']:.4f} → {b_cand['macro_f1']:.4f}"
                           "（更正或导入的样本里可能有标错的）")
        if drop := _class_drop(b_cand, b_cur, gate.base_class_drop):
            return False, f"在按分类标准标注的留出样本上，{drop}（更正或导入的样本里可能有标错的）"
    within = "" if cand["macro_f1"] >= cur["macro_f1"] else f"（下降在允许的 {gate.tolerance} 以内）"
    return True, f"macro-F1 {cur['macro_f1']:.4f} → {cand['macro_f1']:.4f}{within}"


def _class_drop(cand: dict, cur: dict, limit: float) -> str:
    """The first category whose F1 falls by more than `limit`, said in words; "" when none does."""
    for code, m in cand["per_class"].items():
        before = cur["per_class"][code]
        if before["support"] and before["f1"] - m["f1"] > limit:
            return f"类别 {code} 的 F1 下降过多：{before['f1']:.3f} → {m['f1']:.3f}"
    return ""


def fingerprint(corrections: Sequence[Example], base_hash: str) -> str:
    """What a model learned from: the base data's hash and the merged corrections (same → nothing new)."""
    merged = sorted((normalize(e.text), e.label) for e in merge_corrections(corrections))
    digest = hashlib.sha256(base_hash.encode("utf-8"))
    for text, label in merged:
        digest.update(f"{label}\t{text}\n".encode("utf-8"))
    return digest.hexdigest()


def retrain(base: Sequence[Example], corrections: Sequence[Example], current: Model, *, gate: Gate = Gate(),
            version: str | None = None, progress: Callable[[str], None] | None = None) -> RetrainResult:
    """Train a candidate on base examples + corrections and judge it against `current`."""
    say = progress or (lambda _m: None)
    taxonomy = current.taxonomy
    fixed = merge_corrections(corrections)
    corrected = {normalize(e.text) for e in fixed}
    eval_corr = [e for e in fixed if held_out(e.text, gate.correction_eval_share)]
    train_corr = [e for e in fixed if not held_out(e.text, gate.correction_eval_share)]
    # A correction overrides the base label of the same text.
    kept_base = [e for e in base if normalize(e.text) not in corrected]
    eval_base = [e for e in kept_base if held_out(e.text, gate.base_eval_share)]
    train_base = [e for e in kept_base if not held_out(e.text, gate.base_eval_share)]
    train = train_base + train_corr
    weights = [1.0] * len(train_base) + [gate.correction_weight] * len(train_corr)
    say(f"训练候选模型：基础样本 {len(train_base)} 条 + 人工更正 {len(train_corr)} 条（另留 {len(eval_corr)} 条更正作评估）…")
    candidate = train_model(train, taxonomy, cv=0, version=version, weights=weights, roles=current.roles)
    candidate.card["roles"] = current.card.get("roles")
    candidate.card["learned_from"] = fingerprint(corrections, data_hash(base))
    candidate.card["corrections"] = {"train": len(train_corr), "held_out": len(eval_corr)}
    evaluation = eval_base + eval_corr
    say(f"在同一份评估数据（{len(evaluation)} 条）上比较候选模型与当前模型…")
    truth = [e.label for e in evaluation]
    labels = list(taxonomy.codes)
    cand_guess = [p.category for p in candidate.predict([e.text for e in evaluation])]
    cur_guess = [p.category for p in current.predict([e.text for e in evaluation])]
    cand = evaluate_predictions(truth, cand_guess, labels)
    cur = evaluate_predictions(truth, cur_guess, labels)
    n = len(eval_base)  # the base examples come first in `evaluation`
    base = ((evaluate_predictions(truth[:n], cand_guess[:n], labels), evaluate_predictions(truth[:n], cur_guess[:n], labels))
            if n else None)
    promoted, reason = _compare(cand, cur, gate, base)
    candidate.card["metrics"] = {"holdout_accuracy": cand["accuracy"], "macro_f1": cand["macro_f1"],
                                 "accuracy": cand["accuracy"], "per_class": cand["per_class"],
                                 "compared_with": current.version, "current_macro_f1": cur["macro_f1"]}
    return RetrainResult(candidate, promoted, reason, cand, cur, len(train), len(evaluation), len(fixed))
