"""The model registry: every version with its card and status in SQLite, files under the models folder.

Statuses: active (exactly one), candidate (trained, not promoted), rejected (failed the gate),
retired (was active). Files are written to a temporary folder and renamed into place before the
database row exists, so a crash mid-retrain leaves the active model and the database as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import shutil
import threading
import time
from pathlib import Path

from triage import Example, Model, ModelError, Taxonomy, default_model_dir, load_examples
from triage.examples import data_hash, default_training_files
from triage.learning import Gate, fingerprint, retrain

from .convert import local
from .settings import Settings
from .store import Store, StoreError

__all__ = ["ModelHolder", "activate", "list_models", "load_active_model", "rollback", "run_retrain"]

log = logging.getLogger("triage.registry")
_retrain_lock = threading.Lock()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _active_row(store: Store) -> dict | None:
    return next(store.db.query("SELECT * FROM models WHERE status = 'active' LIMIT 1"), None)


def _load(row: dict, taxonomy: Taxonomy) -> Model:
    """A registered version, checked against its files and against the hashes the registry recorded."""
    if not Path(row["path"]).is_dir():
        raise ModelError(f"模型 {row['version']} 的文件夹不存在：{row['path']}")
    recorded = json.loads(row["card"] or "{}").get("files")
    return Model.load(row["path"], taxonomy, expected_files=recorded)


def load_active_model(settings: Settings, taxonomy: Taxonomy) -> Model:
    """Load the active registered model (its file hashes are checked).

    On the first start the registry is empty: the shipped model is loaded and recorded as active.
    An active version that no longer loads (damaged, replaced, deleted) is marked rejected with the
    reason, and the last version that does load takes over, so the service still starts.
    """
    with Store(settings.database) as store:
        row = _active_row(store)
        if row:
            try:
                return _load(row, taxonomy)
            except ModelError as e:
                log.error("启用中的模型 %s 无法加载，已停用：%s", row["version"], e)
                _reject(store, row["version"], f"无法加载：{e}")
            for older in list(store.db.query("SELECT * FROM models WHERE status = 'retired' AND activated IS NOT NULL "
                                             "ORDER BY activated DESC")):
                try:
                    model = _load(older, taxonomy)
                except ModelError as e:
                    _reject(store, older["version"], f"无法加载：{e}")
                    continue
                _set_active(store, older["version"], f"自动回退：{row['version']} 无法加载")
                log.warning("已改用模型 %s", older["version"])
                return model
        folder = settings.model_dir or default_model_dir()
        model = Model.load(folder, taxonomy)
        with store.write() as db:
            db["models"].upsert({"version": model.version, "created": model.card.get("created"),
                                 "status": "retired", "path": str(folder),
                                 "card": json.dumps(model.card, ensure_ascii=False),
                                 "reason": "随程序发布的模型", "activated": _now()}, pk="version")
        _set_active(store, model.version, "随程序发布的模型" if row is None else f"自动回退：{row['version']} 无法加载")
        return model


def _reject(store: Store, version: str, reason: str) -> None:
    with store.write() as db:
        db.execute("UPDATE models SET status = 'rejected', reason = ? WHERE version = ?", [reason[:300], version])


def _set_active(store: Store, version: str, reason: str) -> None:
    with store.write() as db:
        db.execute("UPDATE models SET status = 'retired' WHERE status = 'active' AND version != ?", [version])
        db.execute("UPDATE models SET status = 'active', activated = ?, reason = ? WHERE version = ?",
                   [_now(), reason, version])


def list_models(store: Store, tz: str | None = None) -> list[dict]:
    """Every version, newest first, with its status and headline metrics.

    A retrained version's macro-F1 was measured on that retrain's held-out data, next to the model
    it was compared with (`compared_with`, `compared_macro_f1`): figures of different retrains are
    not on the same data and are not comparable with each other.
    """
    shown = (lambda v: local(v, tz)) if tz else (lambda v: v)
    out = []
    for row in store.db.query("SELECT * FROM models ORDER BY created DESC, version DESC"):
        card = json.loads(row["card"] or "{}")
        metrics = card.get("metrics") or {}
        out.append({"version": row["version"], "status": row["status"], "created": shown(row["created"]),
                    "activated": shown(row["activated"]), "reason": row["reason"], "path": row["path"],
                    "n_examples": card.get("n_examples"), "macro_f1": metrics.get("macro_f1"),
                    "compared_with": metrics.get("compared_with"), "compared_macro_f1": metrics.get("current_macro_f1"),
                    "data_sha256": card.get("data_sha256"), "corrections": card.get("corrections")})
    return out


def activate(store: Store, version: str, taxonomy: Taxonomy, reason: str = "手动启用") -> dict:
    """Make `version` the active model (its files are verified first); the old one is retired."""
    row = next(store.db.query("SELECT * FROM models WHERE version = ?", [version]), None)
    if row is None:
        raise StoreError(f"找不到模型版本 {version}。", 404)
    _load(row, taxonomy)  # refuse a damaged, replaced or stale file before switching
    _set_active(store, version, reason)
    row = next(store.db.query("SELECT version, status, activated, reason FROM models WHERE version = ?", [version]))
    return {**row, "activated": local(row["activated"], taxonomy.timezone)}  # the community's time, as elsewhere


def rollback(store: Store, taxonomy: Taxonomy) -> dict:
    """Re-activate the version that was active before the current one."""
    current = _active_row(store)
    previous = next(store.db.query(
        "SELECT version FROM models WHERE status = 'retired' AND activated IS NOT NULL "
        "AND version != ? ORDER BY activated DESC LIMIT 1", [current["version"] if current else ""]), None)
    if previous is None:
        raise StoreError("没有可以回退的上一个模型版本。", 409)
    return activate(store, previous["version"], taxonomy, reason=f"回退（替换 {current['version'] if current else '—'}）")


def corrections_as_examples(store: Store, taxonomy: Taxonomy) -> list[Example]:
    """Stored corrections and imported examples, oldest first (so the latest wins when merged)."""
    codes = set(taxonomy.codes)
    return [Example(text=r["text"], label=r["new_category"], source=f"correction:{r['id']}")
            for r in store.db.query("SELECT id, text, new_category FROM corrections ORDER BY id")
            if r["new_category"] in codes and r["text"]]


def run_retrain(settings: Settings, taxonomy: Taxonomy, current: Model, gate: Gate | None = None,
                progress=None, base_files: list[Path] | None = None) -> dict:
    """Train, judge and register a candidate; promote it when it passes the gate."""
    if not _retrain_lock.acquire(blocking=False):
        raise StoreError("已有一个重新训练任务在进行中，请稍后再试。", 409)
    try:
        with _retrain_slot(settings):
            return _retrain(settings, taxonomy, current, gate, progress, base_files)
    finally:
        _retrain_lock.release()


def _retrain(settings: Settings, taxonomy: Taxonomy, current: Model, gate: Gate | None, progress,
             base_files: list[Path] | None) -> dict:
    gate = gate or settings.gate()
    say = progress or (lambda _m: None)
    base = load_examples(base_files or default_training_files(), taxonomy)
    with Store(settings.database) as store:
        corrections = corrections_as_examples(store, taxonomy)
    stale = nothing_new(current, corrections, base)
    if stale:
        raise StoreError(stale, 409)
    version = dt.datetime.now().strftime("v%Y%m%d-%H%M%S-%f")[:-3]
    result = retrain(base, corrections, current, gate=gate, version=version, progress=say)
    root = settings.models_dir
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{version}"
    result.candidate.save(tmp)
    final = root / version
    tmp.rename(final)  # atomic: the folder appears complete or not at all
    status = "candidate" if result.promoted else "rejected"
    card = dict(result.candidate.card)
    with Store(settings.database) as store:
        with store.write() as db:
            db["models"].insert({"version": version, "created": card.get("created"), "status": status,
                                 "path": str(final), "card": json.dumps(card, ensure_ascii=False),
                                 "reason": result.reason, "activated": None})
        if result.promoted:
            activate(store, version, taxonomy, reason=f"自动晋升：{result.reason}")
    say(("已启用新模型 " if result.promoted else "候选模型未通过评估，保留为 rejected：") + result.reason)
    return {"version": version, "promoted": result.promoted, "reason": result.reason,
            "candidate": {"macro_f1": result.candidate_metrics["macro_f1"], "accuracy": result.candidate_metrics["accuracy"]},
            "current": {"version": current.version, "macro_f1": result.current_metrics["macro_f1"],
                        "accuracy": result.current_metrics["accuracy"]},
            "n_train": result.n_train, "n_eval": result.n_eval, "n_corrections": result.n_corrections}


def nothing_new(current: Model, corrections: list[Example], base: list[Example]) -> str | None:
    """Why a retrain would learn nothing (no corrections, or none since the active model), else None."""
    if not corrections:
        return "还没有人工更正或导入的标注样本，没有新的内容可学，无需重新训练。"
    if current.card.get("learned_from") == fingerprint(corrections, data_hash(base)):
        return (f"当前模型 {current.version} 已经学过全部 {len(corrections)} 条更正和导入样本；"
                "自上次训练以来没有新的，无需重新训练。")
    return None


def check_retrain(settings: Settings, taxonomy: Taxonomy, current: Model) -> str | None:
    """`nothing_new` for the stored corrections and the shipped training data (asked before a job starts)."""
    with Store(settings.database) as store:
        corrections = corrections_as_examples(store, taxonomy)
    if not corrections:
        return nothing_new(current, corrections, [])
    return nothing_new(current, corrections, load_examples(default_training_files(), taxonomy))


def clean_partial(settings: Settings) -> None:
    """Remove folders left by a retrain that was killed before it finished, and close its job.

    A job still "running" when the service starts died with the previous process: it is marked
    failed with a sentence saying so, instead of showing "running" for ever.
    """
    if settings.models_dir.is_dir():
        for tmp in settings.models_dir.glob(".tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)
    with Store(settings.database) as store, store.write() as db:
        db.execute("UPDATE jobs SET status = 'failed', error = ?, finished = ? WHERE status = 'running'",
                   ["服务重启，任务被中断：请重新提交。", _now()])


@contextlib.contextmanager
def _retrain_slot(settings: Settings):
    """One retrain at a time across processes (the service and `triage retrain`): a lock file."""
    import fcntl

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "retrain.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError("已有一个重新训练任务在进行中，请稍后再试。", 409) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def retrain_running(settings: Settings) -> bool:
    """True while a retrain holds the lock (checked before a new one is accepted)."""
    try:
        with _retrain_slot(settings):
            return False
    except StoreError:
        return True


class ModelHolder:
    """The active model; swapped as a whole, so each request sees exactly one model.

    Every few seconds a request checks the registry: a version activated by another process
    (`triage models activate`, a retrain) is loaded and swapped in without a restart.
    """

    def __init__(self, model: Model, settings: Settings | None = None, check_every: float = 2.0):
        self._model = model
        self._settings = settings
        self._check_every = check_every
        self._checked = time.monotonic()
        self._loading = threading.Lock()

    @property
    def current(self) -> Model:
        if self._settings is not None and time.monotonic() - self._checked > self._check_every:
            self._refresh()
        return self._model

    def swap(self, model: Model) -> None:
        self._model = model  # one reference assignment: atomic for readers

    def _refresh(self) -> None:
        if not self._loading.acquire(blocking=False):
            return  # another request is loading; keep serving the current model
        try:
            self._checked = time.monotonic()
            with Store(self._settings.database) as store:
                row = _active_row(store)
            if row and row["version"] != self._model.version and Path(row["path"]).is_dir():
                self.swap(_load(row, self._model.taxonomy))
                log.info("已切换到模型 %s", row["version"])
        except Exception:  # a bad new model must not take the service down; keep the old one
            log.exception("切换模型失败，继续使用 %s", self._model.version)
        finally:
            self._loading.release()


class MemoryCache:
    """The correction memory (`triage.memory`) for the active model, rebuilt when corrections or the model change.

    Repeats of a corrected message take the corrected category without waiting for a retrain. The
    corrections table is looked at every few seconds, or at once after a correction in this process
    (`invalidate`), so answering a classify request does not touch the database.
    """

    def __init__(self, settings: Settings, check_every: float = 2.0):
        self._settings = settings
        self._check_every = check_every
        self._checked = float("-inf")
        self._key: tuple | None = None
        self._memory = None
        self._version = None
        self._loading = threading.Lock()

    def invalidate(self) -> None:
        self._checked = float("-inf")

    def get(self, model: Model):
        """The memory for `model`, or None while none has been built for it (no correction yet)."""
        due = time.monotonic() - self._checked > self._check_every
        if (due or self._version != model.version) and self._loading.acquire(blocking=self._memory is None):
            try:
                self._refresh(model)
            finally:
                self._loading.release()
        return self._memory if self._version == model.version else None

    def _refresh(self, model: Model) -> None:
        from triage.memory import CorrectionMemory

        self._checked = time.monotonic()
        with Store(self._settings.database) as store:
            row = next(store.db.query("SELECT count(*) AS n, coalesce(max(id), 0) AS last FROM corrections"))
            moved = next(store.db.query("SELECT count(*) AS n, coalesce(max(id), 0) AS last FROM history "
                                        "WHERE field = 'owner'"))
            key = (model.version, row["n"], row["last"], moved["n"], moved["last"])
            if key == self._key:
                return
            pairs = [(r["text"], r["new_category"])
                     for r in store.db.query("SELECT text, new_category FROM corrections ORDER BY id")]
            # an entry handed to another owner by hand: its words go there again (a 街道 desk re-uploading the
            # week's tickets got the model's owner back); the category staff last saw on it stands
            pairs += [(r["text"], r["category"], r["to_value"]) for r in store.db.query(
                "SELECT entries.text, entries.category, history.to_value FROM history JOIN entries "
                "ON entries.id = history.entry_id WHERE history.field = 'owner' AND history.to_value IS NOT NULL "
                "AND entries.owner = history.to_value AND entries.status != '已作废' ORDER BY history.id")]
        self._memory = CorrectionMemory(model.engine, pairs) if pairs else None
        self._key, self._version = key, model.version
