"""Triage endpoints: classify one text, extract issues from notes, tag a batch file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from triage.documents import DocumentError, read_notes
from triage.ledger import issues_markdown
from triage.places import find_places
from triage.route import community_time
from triage.notes import extract, likely_repeats, meeting_date
from triage.tables import TableError, TooManyRowsError, find_text_column, read_table

from . import jobs
from .convert import entry_from_issue, entry_from_result
from .deps import ModelDep, StoreDep, Viewer, Staff
from .schemas import ClassifyIn, ClassifyOut, ExtractIn, ExtractOut, JobOut, has_words
from .settings import ROLE_NAMES
from .store import ROLES

router = APIRouter(prefix="/api", tags=["分拣 triage"])


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone().replace(microsecond=0)


def _check_text(text: str, limit: int, what: str) -> str:
    if not text or not text.strip():
        raise HTTPException(400, f"{what}为空，请输入内容。")
    if len(text) > limit:
        raise HTTPException(413, f"{what}太长：{len(text)} 字，上限 {limit} 字。请分段提交。")
    return text


def _need_staff(caller, store) -> None:
    if ROLES.index(caller.role) < ROLES.index("staff"):
        raise HTTPException(403, "权限不足：存入台账需要“办理”权限。")
    if not caller.still_valid(store):
        raise HTTPException(401, "访问令牌无效或已停用，请向管理员重新申请。")


@router.get("/health", tags=["系统"])
def health(request: Request) -> dict:
    """Liveness and the active model version (no token needed)."""
    return {"status": "ok", "model_version": request.app.state.models.current.version}


@router.get("/me")
def me(caller: Viewer) -> dict:
    """Who this token belongs to and what it may do (shown in the chat page's header)."""
    return {"name": caller.name, "role": caller.role, "role_name": ROLE_NAMES.get(caller.role, caller.role),
            "community": caller.community}


@router.get("/taxonomy")
def taxonomy(model: ModelDep, caller: Viewer) -> dict:
    """Categories with their Chinese names, owners and deadlines."""
    return {"name": model.taxonomy.name, "timezone": model.taxonomy.timezone, "owners": list(model.taxonomy.owners),
            "owner_aliases": dict(model.taxonomy.owner_aliases),
            "category_aliases": dict(model.taxonomy.category_aliases),
            "categories": [
        {"code": c.code, "name": c.name, "owner": c.owner, "co_owners": list(c.co_owners),
         "deadline_days": c.deadline_days, "urgent": c.urgent} for c in model.taxonomy.categories]}


@router.post("/classify", response_model=ClassifyOut)
async def classify(body: ClassifyIn, request: Request, model: ModelDep, store: StoreDep, caller: Viewer) -> dict:
    """Classify and route one message; `save` also adds it to the ledger."""
    text = _check_text(body.text, request.app.state.settings.max_text_chars, "文本")
    received = body.received_at or _now()
    # ~1 ms of model time: cheaper on the event loop than a thread-pool round trip. Writes, which
    # may wait for the database lock, go to the thread pool.
    result = model.classify(text, received, request.app.state.memory.get(model))  # corrections apply at once
    out = result.to_dict()
    out["location"] = "、".join(find_places(text)[:2]) or None  # 楼栋/门/车棚 named in the message
    if body.save:
        _need_staff(caller, store)
        if not has_words(text):  # "😡😡😡", "？？？": answered (其他, 待复核), but there is nothing to file
            raise HTTPException(400, "内容里没有文字，不能存入台账：请写明要反映的问题。")
        entry = {**entry_from_result(result, received, "classify"), "location": out["location"]}
        reused: set[int] = set()
        ids = await run_in_threadpool(lambda: store.add_entries([entry], caller.name, reused=reused,
                                                                community=caller.community))
        out["entry_id"], out["already"] = ids[0], ids[0] in reused
    return out


@router.post("/extract", response_model=ExtractOut)
def extract_issues(body: ExtractIn, request: Request, model: ModelDep, store: StoreDep, caller: Viewer) -> dict:
    """Turn meeting notes into distinct issues; `save` also adds them to the ledger."""
    text = _check_text(body.text, request.app.state.settings.max_notes_chars, "纪要")
    if body.save:
        _need_staff(caller, store)  # refused whether or not the notes hold a problem
    # deadlines count from the meeting date the record states ("板凳会（11月24日）"), else from now
    now = _now()
    received = body.received_at or meeting_date(text, now.astimezone(ZoneInfo(model.taxonomy.timezone))) or now
    beyond: list[str] = []
    unlisted: list[str] = []
    issues = extract(text, model, received, beyond, unlisted, now=now)
    out = [i.to_dict() for i in issues]
    if body.save and issues:
        _need_staff(caller, store)
        reused: set[int] = set()  # the same notes saved twice: the open entries are not entered again
        ids = store.add_entries([entry_from_issue(i, received, model.version, "extract") for i in issues], caller.name,
                                reused=reused, community=caller.community)
        for d, entry_id in zip(out, ids):
            d["entry_id"], d["already"] = entry_id, entry_id in reused
    return {"issues": out, "model_version": model.version, "markdown": issues_markdown(issues),
            "received_at": community_time(received, model.taxonomy),  # local, like every other time the API shows
            "beyond": beyond, "unlisted": unlisted, "likely_repeats": [list(p) for p in likely_repeats(issues)]}


@router.post("/extract/file", response_model=ExtractOut)
async def extract_file(request: Request, model: ModelDep, store: StoreDep, caller: Viewer,
                       file: Annotated[UploadFile, File(description="会议纪要：Word (.docx) 或文本 (.txt)")],
                       save: Annotated[bool, Form(description="同时存入台账（需要 staff 权限）")] = False) -> dict:
    """Meeting notes as a file (the Word record of a 板凳会): the same answer as /api/extract."""
    settings = request.app.state.settings
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"文件太大：上限 {settings.max_upload_bytes // (1024 * 1024)} MB。")
    try:
        text = await run_in_threadpool(read_notes, Path(file.filename or "纪要.txt").name, data)
    except DocumentError as e:
        raise HTTPException(400, str(e)) from None
    body = ExtractIn(text=text, save=save)
    return await run_in_threadpool(extract_issues, body, request, model, store, caller)


def _for_web(message: str) -> str:
    """Messages of the command-line reader, with the `--column` hint put in a worker's terms."""
    return message.replace("请用 --column 指定。", "请把工单文字所在的列命名为“内容”后重新上传。")


@router.post("/jobs", response_model=JobOut, status_code=202)
async def create_job(request: Request, model: ModelDep, store: StoreDep, caller: Staff,
                     file: Annotated[UploadFile, File(description="CSV / XLSX / JSONL 工单文件，UTF-8 或 GBK")],
                     column: Annotated[str, Form(description="文本列名")] = "text",
                     save: Annotated[bool, Form(description="打完标签后存入台账")] = False) -> dict:
    """Upload a ticket file to tag in the background; poll the job, then download the result."""
    settings = request.app.state.settings
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"文件太大：上限 {settings.max_upload_bytes // (1024 * 1024)} MB。请拆分后上传。")
    name = Path(file.filename or "upload.csv").name
    notes: list[str] = []  # what the reader skipped or guessed (title rows, 合计 rows, which sheet/column)
    try:  # parsing a 20 MB workbook takes seconds: keep it off the event loop
        rows, header = await run_in_threadpool(lambda: read_table(name, data, notes, max_rows=settings.max_upload_rows))
        text_column = find_text_column(header, column, rows, notes)
    except TooManyRowsError as e:  # reading stopped as soon as the limit was passed
        raise HTTPException(413, str(e)) from None
    except TableError as e:  # the command-line hint means nothing on a web page
        raise HTTPException(400, _for_web(str(e))) from None
    notes = [_for_web(n) for n in notes]
    if len(rows) > settings.max_upload_rows:
        raise HTTPException(413, f"行数太多：{len(rows)} 行，上限 {settings.max_upload_rows} 行。请拆分后上传。")
    job = await run_in_threadpool(jobs.start, settings, model, rows, header, text_column, name, caller.name, save, _now(),
                                   request.app.state.memory, notes, caller.community,
                                   ROLES.index(caller.role) >= ROLES.index(settings.close_role))
    return jobs.describe(await run_in_threadpool(jobs.get, store, job), settings, model.taxonomy.timezone)


@router.get("/jobs", response_model=list[JobOut])
def job_list(request: Request, store: StoreDep, model: ModelDep, caller: Viewer,
             limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict]:
    """The latest uploads, newest first (上传记录): each with its counts, download and whether it was taken back."""
    return [jobs.describe(j, request.app.state.settings, model.taxonomy.timezone) for j in jobs.recent(store, limit)]


@router.get("/jobs/{job_id}", response_model=JobOut)
def job_status(job_id: str, request: Request, store: StoreDep, model: ModelDep, caller: Viewer) -> dict:
    """Progress and counts of a tagging job."""
    return jobs.describe(jobs.get(store, job_id), request.app.state.settings, model.taxonomy.timezone)


@router.post("/jobs/{job_id}/undo")
def job_undo(job_id: str, store: StoreDep, caller: Staff) -> dict:
    """撤销导入: the entries an upload entered become 已作废 (never deleted), except those worked on since.

    Allowed to whoever uploaded the file, and to administrators.
    """
    job = jobs.get(store, job_id)
    if job["status"] != "done" or not job.get("saved"):
        raise HTTPException(409, "这个任务没有把工单存入台账，没有可撤销的内容。")
    if caller.role != "admin" and job.get("who") != caller.name:
        raise HTTPException(403, f"只有上传人（{job.get('who') or '未知'}）或管理员可以撤销这次导入。")
    return store.undo_upload(job, caller.name)


@router.get("/jobs/{job_id}/download")
def job_download(job_id: str, request: Request, store: StoreDep, caller: Viewer):
    """The tagged file, in the format of the upload (kept `job_keep_days` days)."""
    job = jobs.get(store, job_id)
    if job["status"] != "done":
        raise HTTPException(409, "任务还没有完成，请稍后再下载。")
    if not job.get("output_path"):
        raise HTTPException(404, "这个任务没有结果文件（重新训练的结果见任务状态）。")
    path = Path(job["output_path"])
    if not path.is_file():
        raise HTTPException(410, f"结果文件已按规定清理（保留 {request.app.state.settings.job_keep_days} 天），请重新上传。")
    # curl -OJ and older clients read only filename=, which must be ASCII; browsers take the Chinese name
    name = job["output_name"] or path.name
    plain = f"tagged-{job_id}{Path(name).suffix}"
    return FileResponse(path, headers={"Content-Disposition": f"attachment; filename=\"{plain}\"; "
                                                              f"filename*=UTF-8''{quote(name)}"})
