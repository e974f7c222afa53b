"""A trained model on disk: the pickled pipeline plus a JSON card, checked before loading.

Layout of a model folder::

    model.pkl.gz   the fitted sklearn Pipeline (pickle protocol 5, gzip), for retraining
    roles.pkl.gz   the utterance-role Pipeline for meeting notes, for retraining
    compact.npz    both pipelines' fitted numbers as plain arrays, for answering
    card.json      labels, taxonomy, training-data hash, metrics, library versions, file hashes

Answering reads only compact.npz, with `allow_pickle=False`: a tampered file cannot run code, it can
only fail to load. The pipelines are pickles (the C unpickler is fast and sklearn has no other format)
and are unpickled only by training code, after the file's SHA-256 matched its card; a model registry
also compares the card with the hashes it recorded (`expected_files`). Old folders whose answering
part is a pickle (compact.pkl.gz) load only through such a registry. A model trained with another
scikit-learn or for other labels is refused, not guessed at.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import pickle
import platform
import re
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

import jieba
import numpy as np

from .classify import Prediction, predict, train_pipeline
from .compact import Compact, engine_for, from_arrays, to_arrays
from .examples import Example, data_hash
from .normalize import normalize
from .route import Routing, route
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["COMPACT_FILE", "MODEL_FILE", "CARD_FILE", "Model", "ModelError", "Result", "default_model_dir", "train_model"]

MODEL_FILE = "model.pkl.gz"
ROLES_FILE = "roles.pkl.gz"
COMPACT_FILE = "compact.npz"
LEGACY_COMPACT = "compact.pkl.gz"  # before 2026-11-26: a pickle
CARD_FILE = "card.json"


_MEANINGFUL = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]{2,}")  # what a message says, not its digits or symbols


class ModelError(RuntimeError):
    """The model folder is missing, damaged, stale or for another taxonomy."""


def _check_card(card, path: Path) -> None:
    """The card's shape, before any value in it is trusted: a hand-edited card gets a sentence, not a traceback."""
    problem = None
    if not isinstance(card, dict):
        problem = "不是一个 JSON 对象"
    elif not isinstance(card.get("files", {}), dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in card.get("files", {}).items()):
        problem = "files 应为 文件名 → 哈希"
    elif not isinstance(card.get("versions", {}), dict):
        problem = "versions 应为 库名 → 版本"
    elif not isinstance(card.get("labels", []), list) or not all(isinstance(x, str) for x in card.get("labels", [])):
        problem = "labels 应为类别代码的列表"
    if problem:
        raise ModelError(f"模型说明文件 {path} 格式不对（{problem}），拒绝加载。请重新运行 `triage train`。")


def _read(path: Path):
    # Only called after the file's SHA-256 matched the card.
    return pickle.loads(gzip.decompress(path.read_bytes()))


def default_model_dir() -> Path:
    """$TRIAGE_MODEL_DIR, else the shipped model in the repository's ``models/shipped``."""
    env = os.environ.get("TRIAGE_MODEL_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models" / "shipped"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sklearn_version() -> str:
    # From the package metadata: importing scikit-learn itself costs ~0.8 s.
    from importlib.metadata import version

    return version("scikit-learn")


def library_versions() -> dict:
    """Versions that decide whether a pickled pipeline still loads the same."""
    return {"python": platform.python_version(), "scikit-learn": _sklearn_version(), "jieba": jieba.__version__}


def json_ready(result) -> dict:
    """A frozen result dataclass as a JSON-ready dict: tuples become lists, times ISO 8601."""
    out = {}
    for name in result.__dataclass_fields__:
        value = getattr(result, name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dt.datetime):
            value = value.isoformat()
        out[name] = value
    return out


@dataclass(frozen=True)
class Result:
    """One message triaged: category, routing and why."""

    text: str
    category: str
    category_name: str
    secondary: tuple[str, ...]
    confidence: float
    margin: float
    needs_review: bool
    urgent: bool
    owner: str
    co_owners: tuple[str, ...]
    deadline: dt.datetime | None
    explanation: str
    model_version: str
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """JSON-ready dict; the deadline as ISO 8601 with timezone."""
        return json_ready(self)


class Model:
    """A loaded, verified model bound to its taxonomy.

    Answers come from `engine` (and `roles_engine` for meeting notes): the fitted numbers in
    plain arrays (`triage.compact`). The scikit-learn pipelines themselves are only unpickled
    when training code asks for them (`pipeline`, `roles`).
    """

    def __init__(self, pipeline, taxonomy: Taxonomy, card: dict, path: Path | None = None, roles=None,
                 engines: dict | None = None):
        self._pipeline, self._roles = pipeline, roles
        self.taxonomy = taxonomy
        self.card = card
        self.path = path
        self.version = card.get("version", "unsaved")
        if engines is None:
            engines = {"model": engine_for(pipeline), "roles": engine_for(roles) if roles is not None else None}
        self.engine = engines["model"]
        self.roles_engine = engines.get("roles")

    @property
    def pipeline(self):
        """The fitted scikit-learn Pipeline (unpickled on first use)."""
        if self._pipeline is None:
            self._pipeline = _read(self.path / MODEL_FILE)
        return self._pipeline

    @property
    def roles(self):
        """The utterance-role Pipeline, if the model has one (unpickled on first use)."""
        if self._roles is None and self.path is not None and ROLES_FILE in (self.card.get("files") or {}):
            self._roles = _read(self.path / ROLES_FILE)
        return self._roles

    @classmethod
    def load(cls, path: str | Path | None = None, taxonomy: Taxonomy | None = None, *,
             expected_files: dict | None = None) -> "Model":
        """Load a model folder after checking its card, file hashes, versions and labels.

        `expected_files` (name → SHA-256, as a model registry recorded them) must equal the card's.
        """
        folder = Path(path) if path else default_model_dir()
        card_path, model_path = folder / CARD_FILE, folder / MODEL_FILE
        if not card_path.is_file() or not model_path.is_file():
            raise ModelError(f"找不到模型：{folder} 中缺少 {CARD_FILE} 或 {MODEL_FILE}。请先运行 `triage train`。")
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ModelError(f"模型说明文件损坏：{card_path} ({e})") from None
        _check_card(card, card_path)
        files = card.get("files") or {}
        if MODEL_FILE not in files:
            raise ModelError(f"模型说明文件 {card_path} 缺少文件哈希，拒绝加载。请重新运行 `triage train`。")
        if expected_files is not None and files != expected_files:
            # the registry keeps its own copy of the hashes: a file swapped together with an edited
            # card.json is refused too
            raise ModelError(f"模型 {folder.name} 的文件与登记时不一致（{CARD_FILE} 被改动过），拒绝加载。")
        for name, digest in files.items():
            if Path(name).name != name or not (folder / name).is_file() or file_sha256(folder / name) != digest:
                raise ModelError(f"模型文件校验失败：{folder / name} 与 {CARD_FILE} 记录的哈希不一致，拒绝加载（文件可能损坏或被替换）。")
        built_with, installed = card.get("versions", {}).get("scikit-learn"), _sklearn_version()
        if built_with != installed:
            raise ModelError(f"模型已过期：由 scikit-learn {built_with} 训练，当前为 {installed}。请重新运行 `triage train`。")
        taxonomy = taxonomy or load_taxonomy()
        if sorted(card.get("labels", [])) != sorted(taxonomy.codes):
            raise ModelError(
                f"模型与分类配置不一致：模型类别 {sorted(card.get('labels', []))}，配置 {taxonomy.source} 的类别 "
                f"{sorted(taxonomy.codes)}。请用这份配置重新训练。")
        if COMPACT_FILE in files:
            try:
                with np.load(folder / COMPACT_FILE, allow_pickle=False) as arrays:
                    engines = from_arrays(arrays)
            except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as e:
                raise ModelError(f"模型文件 {folder / COMPACT_FILE} 无法读取（{type(e).__name__}），拒绝加载。"
                                 f"请重新运行 `triage train`。") from None
            return cls(None, taxonomy, card, folder, engines=engines)
        if expected_files is None:  # a pickle runs code: only what a registry recorded is unpickled to answer
            raise ModelError(f"{folder} 是旧格式的模型（答题部分为 pickle），只能通过模型登记加载。请重新运行 `triage train`。")
        try:
            if LEGACY_COMPACT in files:
                return cls(None, taxonomy, card, folder, engines=_read(folder / LEGACY_COMPACT))
            roles = _read(folder / ROLES_FILE) if ROLES_FILE in files else None
            return cls(_read(model_path), taxonomy, card, folder, roles)
        except (EOFError, OSError, AttributeError, ImportError, pickle.UnpicklingError, ValueError) as e:
            raise ModelError(f"模型文件无法读取（{type(e).__name__}），拒绝加载。请重新运行 `triage train`。") from None

    def save(self, folder: str | Path) -> Path:
        """Write model and card atomically (a crash leaves the old files in place)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        compact = isinstance(self.engine, Compact) and (self.roles_engine is None or isinstance(self.roles_engine, Compact))
        parts = {MODEL_FILE: self.pipeline, ROLES_FILE: self.roles,
                 COMPACT_FILE: {"model": self.engine, "roles": self.roles_engine} if compact else None}
        staged, files = {}, {}
        for name, obj in parts.items():
            if obj is None:
                continue
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
                if name == COMPACT_FILE:
                    np.savez_compressed(tmp, **to_arrays(obj))
                else:
                    tmp.write(gzip.compress(pickle.dumps(obj, protocol=5), compresslevel=6, mtime=0))
            staged[name], files[name] = tmp.name, file_sha256(Path(tmp.name))
        card = {**self.card, "files": files}
        card_tmp = folder / (CARD_FILE + ".tmp")
        card_tmp.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        # The card goes first: until the model files follow, loading fails its hash check
        # instead of pairing a new card with an old pickle.
        os.replace(card_tmp, folder / CARD_FILE)
        for name, tmp_name in staged.items():
            os.replace(tmp_name, folder / name)
        self.card, self.path = card, folder
        return folder

    def predict(self, texts: Iterable[str], normalized: bool = False) -> list[Prediction]:
        """Raw predictions (category, confidence, explanation) without routing."""
        return predict(self.engine, self.taxonomy, texts, normalized=normalized)

    def classify_many(self, texts: Sequence[str], received_at: dt.datetime | Sequence[dt.datetime],
                      memory=None) -> list[Result]:
        """Classify and route texts; `received_at` is one time or one per text.

        With a `triage.memory.CorrectionMemory`, a text that repeats a corrected one takes its category.
        """
        clean = [normalize(t or "") for t in texts]
        times = received_at if isinstance(received_at, (list, tuple)) else [received_at] * len(clean)
        if memory is not None and len(memory) and clean:
            features = self.engine.features(clean)  # one computation for the model and the memory
            preds = predict(self.engine, self.taxonomy, clean, normalized=True, features=features)
            recalls = memory.recall(clean, features)
        else:
            preds, recalls = self.predict(clean, normalized=True), [None] * len(clean)
        out = []
        for text, norm, when, pred, recalled in zip(texts, clean, times, preds, recalls):
            remembered = ""
            if recalled is not None and recalled.category is not None and recalled.category in self.taxonomy.codes:
                remembered = (f"与已更正的记录几乎相同（相似度 {recalled.similarity:.2f}），"
                              f"按更正后的类别“{self.taxonomy.get(recalled.category).name}”处理")
                pred = replace(pred, category=recalled.category, confidence=max(pred.confidence, recalled.similarity),
                               needs_review=False, secondary=tuple(c for c in pred.secondary if c != recalled.category),
                               precedence="")
            routing: Routing = route(pred.category, norm, when, self.taxonomy)
            if (recalled is not None and recalled.owner and recalled.owner in self.taxonomy.owners
                    and recalled.owner_category == pred.category):
                # handed over by hand before ("柳塘新村没有物业" → 社区居委会): the same ticket goes there again
                routing = replace(routing, owner=recalled.owner, co_owners=tuple(c for c in routing.co_owners
                                                                                  if c != recalled.owner))
                said = f"责任主体按此前的转交为“{recalled.owner}”（相似度 {recalled.similarity:.2f}）"
                remembered = f"{remembered}；{said}" if remembered else said
            # "好", "喂？" , "11111": too little to file a problem by, however sure the model sounds
            terse = "内容过短，无法判断诉求，请人工核对" if len(_MEANINGFUL.findall(norm)) < 3 and not recalled else ""
            if terse:
                pred = replace(pred, needs_review=True)
            notes = tuple(n for n in (remembered, terse, pred.precedence, *routing.reasons, routing.calendar_note) if n)
            out.append(Result(
                text=text,
                category=pred.category,
                category_name=self.taxonomy.get(pred.category).name,
                secondary=pred.secondary,
                confidence=pred.confidence,
                margin=pred.margin,
                needs_review=pred.needs_review,
                urgent=routing.urgent,
                owner=routing.owner,
                co_owners=routing.co_owners,
                deadline=routing.deadline,
                explanation="、".join(pred.explanation),
                model_version=self.version,
                notes=notes,
            ))
        return out

    def classify(self, text: str, received_at: dt.datetime, memory=None) -> Result:
        """Classify and route one text."""
        return self.classify_many([text], received_at, memory)[0]


def train_model(examples: Sequence[Example], taxonomy: Taxonomy, *, cv: int = 5, version: str | None = None,
                progress=None, now: dt.datetime | None = None, role_examples: Sequence[Example] = (),
                weights: Sequence[float] | None = None, roles=None, holdout_share: float = 0.0) -> Model:
    """Train a model on examples (normalised here) and describe it in a card.

    With `holdout_share`, that stable share of the examples (by text hash) is kept out of training
    and measured instead; retraining compares candidates on the same share (`triage.learning`).
    `roles` reuses an already trained utterance-role pipeline instead of training one.
    """
    from .learning import held_out

    everything = list(examples)
    holdout = [e for e in everything if holdout_share and held_out(e.text, holdout_share)]
    if holdout:
        kept = [i for i, e in enumerate(everything) if not held_out(e.text, holdout_share)]
        examples = [everything[i] for i in kept]
        weights = [weights[i] for i in kept] if weights is not None else None
    texts = [normalize(e.text) for e in examples]
    labels = [e.label for e in examples]
    missing = sorted(set(taxonomy.codes) - set(labels))
    if missing:
        raise ValueError(f"训练数据缺少类别：{', '.join(missing)}（每个类别至少需要一些例子）")
    pipeline, metrics = train_pipeline(texts, labels, cv=cv, progress=progress, weights=weights)
    role_metrics = {}
    if role_examples and roles is None:
        if progress:
            progress(f"训练会议纪要语句角色模型（{len(role_examples)} 条）…")
        roles, role_metrics = train_pipeline([normalize(e.text) for e in role_examples],
                                             [e.label for e in role_examples], cv=cv, linear="svm")
    created = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    counts = {code: labels.count(code) for code in taxonomy.codes}
    card = {
        "version": version or created.strftime("v%Y%m%d-%H%M%S"),
        "created": created.isoformat(timespec="seconds"),
        "taxonomy": taxonomy.name,
        "taxonomy_sha256": taxonomy.sha256,
        "labels": list(taxonomy.codes),
        "n_examples": len(examples),
        "counts": counts,
        "data_sha256": data_hash(everything),
        "metrics": metrics,
        "versions": library_versions(),
    }
    if holdout:
        from .classify import evaluate_predictions

        guessed = [p.category for p in predict(engine_for(pipeline), taxonomy, [e.text for e in holdout])]
        h = evaluate_predictions([e.label for e in holdout], guessed, taxonomy.codes)
        card["holdout"] = {"share": holdout_share, "n": len(holdout), "accuracy": h["accuracy"], "macro_f1": h["macro_f1"]}
    if roles is not None and role_examples:
        card["roles"] = {"labels": sorted(set(e.label for e in role_examples)), "n_examples": len(role_examples),
                         "data_sha256": data_hash(role_examples),
                         "metrics": {k: role_metrics[k] for k in ("accuracy", "macro_f1") if k in role_metrics}}
    return Model(pipeline, taxonomy, card, roles=roles)
