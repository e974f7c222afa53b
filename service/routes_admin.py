"""Model operations (admin): registry, retrain, activate, rollback, labelled-data import/export;
and the review queue (staff) that sends corrections where they teach the most."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from triage.examples import TrainingDataError, labelled_pairs, parse_label_map
from triage.normalize import normalize
from triage.tables import TableError, read_table, write_table

from . import registry
from .convert import local, utc
from .deps import Admin, ModelDep, StoreDep, Viewer
from .schemas import TokenIn
from .store import CLOSED, Store

router = APIRouter(tags=["管理 admin"])


@router.get("/api/admin/model")
def model_card(model: ModelDep, caller: Admin) -> dict:
    """The active model's card: version, labels, data hash, metrics, library versions."""
    return model.card


@router.get("/api/admin/models")
def models(store: StoreDep, model: ModelDep, caller: Admin) -> list[dict]:
    """Every model version with its status (active / candidate / rejected / retired), times local."""
    return registry.list_models(store, model.taxonomy.timezone)


def _swap(request: Request) -> str:
    settings = request.app.state.settings
    holder = request.app.state.models
    holder.swap(registry.load_active_model(settings, holder.current.taxonomy))
    return holder.current.version


@router.post("/api/admin/models/{version}/activate")
def activate(version: str, request: Request, model: ModelDep, store: StoreDep, caller: Admin) -> dict:
    """Make a version active now (files verified first); the service switches without a restart."""
    row = registry.activate(store, version, model.taxonomy, reason=f"{caller.name} 手动启用")
    return {**row, "serving": _swap(request)}


@router.post("/api/admin/models/rollback")
def rollback(request: Request, model: ModelDep, store: StoreDep, caller: Admin) -> dict:
    """Go back to the previously active version."""
    row = registry.rollback(store, model.taxonomy)
    return {**row, "serving": _swap(request)}


@router.get("/api/admin/tokens")
def list_tokens(model: ModelDep, store: StoreDep, caller: Admin) -> list[dict]:
    """Every token (never the secret): id, name, role, created (local time), revoked."""
    return [{**t, "created": local(t["created"], model.taxonomy.timezone)} for t in store.tokens()]


@router.post("/api/admin/tokens", status_code=201)
def create_token(body: TokenIn, store: StoreDep, caller: Admin) -> dict:
    """A new token for a colleague; the secret is shown in this answer only."""
    token_id, token = store.new_token(body.role, body.name, body.community)
    return {"id": token_id, "token": token, "role": body.role, "name": body.name, "community": body.community.strip() or None}


@router.delete("/api/admin/tokens/{token_id}")
def revoke_token(token_id: Annotated[int, PathParam(ge=1, le=2**53)], store: StoreDep, caller: Admin) -> dict:
    """Stop a token at once for writing (reads within a few seconds); it stays listed as revoked."""
    return store.revoke_token(token_id)


@router.post("/api/admin/retrain", status_code=202)
def start_retrain(request: Request, model: ModelDep, caller: Admin) -> dict:
    """Retrain on training data + corrections in the background; poll /api/jobs/{id}."""
    settings = request.app.state.settings
    if registry.retrain_running(settings):  # here or in `triage retrain`: say so now, not as a failed job
        raise HTTPException(409, "已有一个重新训练任务在进行中，请稍后再试。")
    stale = registry.check_retrain(settings, model.taxonomy, model)
    if stale:  # nothing to learn: no new version, said at once
        raise HTTPException(409, stale)
    job_id = "retrain-" + uuid.uuid4().hex[:8]
    with Store(settings.database) as store, store.write() as db:
        db["jobs"].insert({"id": job_id, "status": "running", "total": 3, "done": 0, "created": utc(dt.datetime.now().astimezone()),
                           "input_name": "重新训练", "who": caller.name, "saved": 0})

    def work() -> None:
        steps = {"n": 0}

        def progress(message: str) -> None:
            steps["n"] += 1
            with Store(settings.database) as s, s.write() as db:
                db["jobs"].update(job_id, {"done": min(steps["n"], 3), "result": json.dumps({"step": message},
                                                                                          ensure_ascii=False)})

        try:
            outcome = registry.run_retrain(settings, model.taxonomy, model, progress=progress)
            if outcome["promoted"]:
                request.app.state.models.swap(registry.load_active_model(settings, model.taxonomy))
            fields = {"status": "done", "done": 3, "result": json.dumps(outcome, ensure_ascii=False, default=str)}
        except Exception as e:  # the job must end visibly; the active model is untouched
            fields = {"status": "failed", "error": f"重新训练失败：{e}"}
        with Store(settings.database) as s, s.write() as db:
            db["jobs"].update(job_id, {**fields, "finished": utc(dt.datetime.now().astimezone())})

    threading.Thread(target=work, name=job_id, daemon=True).start()
    return {"id": job_id, "status": "running", "poll": f"/api/jobs/{job_id}"}


def _bigrams(text: str) -> set[str]:
    t = normalize(text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


@router.get("/api/review-queue")
def review_queue(model: ModelDep, store: StoreDep, caller: Viewer,
                 limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict]:
    """Open entries nobody has looked at yet that the model is least sure of (smallest top-two margin),
    near-duplicates skipped. An entry whose category someone corrected or confirmed, or whose 责任主体 someone
    changed by hand, has been looked at (a 12345 desk tester saw her confirmed entries stay on top)."""
    rows = store.db.query(
        f"SELECT * FROM entries WHERE corrected = 0 AND status NOT IN ({','.join('?' * len(CLOSED))}) "
        "AND NOT EXISTS (SELECT 1 FROM corrections WHERE corrections.entry_id = entries.id) "
        "AND NOT EXISTS (SELECT 1 FROM history WHERE history.entry_id = entries.id AND history.field = 'owner') "
        "ORDER BY coalesce(margin, confidence, 1.0) ASC, id DESC LIMIT ?", [*CLOSED, limit * 10])
    picked, seen = [], []
    for row in rows:
        grams = _bigrams(row["text"])
        if any(len(grams & g) / max(1, len(grams | g)) > 0.7 for g in seen):
            continue
        seen.append(grams)
        entry = store.decode(row)
        picked.append({k: entry.get(k) for k in ("id", "text", "summary", "category", "category_name", "confidence",
                                                   "margin", "status", "location", "owner", "urgent")}
                      | {k: local(entry.get(k), model.taxonomy.timezone) for k in ("received_at", "deadline")})
        if len(picked) >= limit:
            break
    return picked


@router.get("/api/admin/examples")
def export_examples(model: ModelDep, store: StoreDep, caller: Admin,
                    format: Literal["jsonl", "csv"] = "jsonl") -> Response:
    """All labelled examples from staff (corrections and imports) as JSONL or CSV."""
    rows = [{**r, "at": local(r["at"], model.taxonomy.timezone)} for r in store.labelled_examples()]
    buf = io.StringIO()
    write_table(rows, store.LABELLED_COLUMNS, buf, format)
    data = buf.getvalue().encode("utf-8-sig" if format == "csv" else "utf-8")
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return Response(data, media_type=media, headers={"Content-Disposition": f"attachment; filename=labelled.{format}"})


@router.post("/api/admin/examples")
async def import_examples(request: Request, model: ModelDep, store: StoreDep, caller: Admin,
                          file: Annotated[UploadFile, File(description="带 text 和 label 列的 CSV / XLSX / JSONL")],
                          label_map: Annotated[str | None, Form(max_length=2000, description="类别对照，如 物业管理=物业服务；市政设施=公共设施")] = None) -> dict:
    """Import labelled examples (e.g. a centre's historical tickets); labels may be codes or Chinese names.

    `check` lists where the current model, sure of itself, reads the texts otherwise: a file whose
    columns are shifted or whose names were mapped wrongly shows up here before anyone retrains.
    """
    data = await file.read(request.app.state.settings.max_upload_bytes + 1)
    if len(data) > request.app.state.settings.max_upload_bytes:
        raise HTTPException(413, "文件太大。")
    try:
        rows, header = await run_in_threadpool(read_table, file.filename or "examples.csv", data)
        limit = request.app.state.settings.max_upload_rows
        if len(rows) > limit:
            raise HTTPException(413, f"行数太多：{len(rows)} 行，上限 {limit} 行。请拆分后导入。")
        pairs = labelled_pairs(rows, header, model.taxonomy, parse_label_map(label_map))
    except (TableError, TrainingDataError) as e:
        raise HTTPException(400, str(e)) from None
    # may wait for the write lock: not on the event loop
    new = await run_in_threadpool(store.import_labelled, pairs, f"{caller.name}（导入）")
    check = await run_in_threadpool(disagreements, model, pairs)
    return {"imported": new, "already": len(pairs) - new, "check": check}  # already: stored before


def disagreements(model, pairs: list[tuple[str, str]], sure: float = 0.8) -> list[str]:
    """Sentences on labels the current model confidently reads otherwise, commonest first."""
    names = {c.code: c.name for c in model.taxonomy.categories}
    found: dict[tuple[str, str], list[str]] = {}
    for (text, label), p in zip(pairs, model.predict([t for t, _ in pairs])):
        if p.category != label and p.confidence >= sure:
            found.setdefault((p.category, label), []).append(text)
    def shown(text: str) -> str:  # enough of the text to find the row in the file
        return f"“{text[:16]}{'…' if len(text) > 16 else ''}”"

    return [f"{len(texts)} 条文件里（导入后）为“{names[label]}”，模型很有把握是“{names[guess]}”，例如 "
            f"{'、'.join(shown(t) for t in texts[:2])}：请核对后再重新训练"
            for (guess, label), texts in sorted(found.items(), key=lambda kv: -len(kv[1]))[:5]]
