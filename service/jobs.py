"""Background tagging jobs: a worker thread per upload, progress kept in the database."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from pathlib import Path

from triage import Model, write_table
from triage.places import find_places
from triage.tables import clean_name
from triage.tagging import for_people, find_time_column, parse_time, tag_rows

from .convert import local, utc
from .settings import Settings
from .store import Store, StoreError

__all__ = ["describe", "get", "start"]

log = logging.getLogger("triage.jobs")


def get(store: Store, job_id: str) -> dict:
    """One job row; 404 when unknown."""
    row = next(store.db.query("SELECT * FROM jobs WHERE id = ?", [job_id]), None)
    if row is None:
        raise StoreError(f"找不到任务 {job_id}。", 404)
    return row


def describe(job: dict, settings: Settings, tz: str = "Asia/Shanghai") -> dict:
    """API view of a job (times in the community's timezone, as everywhere else)."""
    return {**{k: job.get(k) for k in ("id", "status", "total", "done", "review", "error", "input_name")},
            "created": local(job.get("created"), tz), "finished": local(job.get("finished"), tz),
            "result": json.loads(job["result"]) if job.get("result") else None,
            "saved": job.get("saved_new"), "already": job.get("saved_already"), "repeat": job.get("saved_repeat"),
            "alike": job.get("saved_alike"),
            "notes": json.loads(job["notes"]) if job.get("notes") else [],
            "download": f"/api/jobs/{job['id']}/download" if job["status"] == "done" and job.get("output_path") else None}


OUTPUT_SUFFIX = {".xls": ".xlsx", ".xlsm": ".xlsx", ".tsv": ".csv", ".txt": ".csv", ".json": ".jsonl"}


def start(settings: Settings, model: Model, rows: list[dict], header: list[str], column: str, name: str,
          who: str, save: bool, now: dt.datetime, memory_cache=None, notes: list[str] | None = None) -> str:
    """Record a job and start tagging it in a background thread; returns the job id."""
    job_id = uuid.uuid4().hex[:12]
    suffix = Path(name).suffix.lower()
    suffix = OUTPUT_SUFFIX.get(suffix, suffix)  # results go out in a format we write
    out_name = f"{Path(name).stem}_已分类{suffix}"
    out_path = settings.jobs_dir / f"{job_id}{suffix}"
    with Store(settings.database) as store, store.write() as db:
        db["jobs"].insert({"id": job_id, "status": "running", "total": len(rows), "done": 0, "review": None,
                           "created": utc(now), "finished": None, "error": None, "input_name": name,
                           "output_path": str(out_path), "output_name": out_name, "who": who, "saved": int(save),
                           "notes": json.dumps(notes or [], ensure_ascii=False)})
    worker = threading.Thread(target=_run, name=f"job-{job_id}", daemon=True,
                              args=(settings, model, job_id, rows, header, column, out_path, who, save, now, memory_cache))
    worker.start()
    return job_id


def _entry(row: dict, text: str, received: dt.datetime, version: str, extra: dict[str, str | None]) -> dict:
    # the deadline is the tagged row's: the centre's own when its export gives a plausible one (tag_rows)
    deadline = dt.datetime.fromisoformat(row["deadline"]) if row.get("deadline") else None
    notes = [n for n in str(row.get("notes") or "").split("；") if n]
    places = find_places(text)
    ref, contact, reply = (_cell(row.get(extra[k])) if extra[k] else None for k in ("ref", "contact", "response"))
    if ref and len(ref) < 6:
        ref = None  # a row number (1, 2, 3…), not a hotline ticket number: it would match other files' rows
    return {"text": text, "summary": text[:60], "category": row["category"], "category_name": row["category_name"],
            "secondary": row["secondary"], "owner": row["owner"], "co_owners": row["co_owners"],
            "urgent": row["urgent"], "deadline": utc(deadline), "received_at": utc(received),
            "confidence": row["confidence"], "needs_review": row["needs_review"], "model_version": version,
            "source": "tag", "quotes": [text], "speakers": [], "location": "、".join(places[:2]) or None,
            "ref": ref, "contact": contact, "response": reply, "notes": notes}


def _cell(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:200] or None


# Columns of a 12345 export kept in the ledger: the ticket number (so the entry links back to the
# hotline system and is never entered twice), the caller (for 回访) and any reply already given.
EXTRA_COLUMNS = {
    "ref": ("工单编号", "工单号", "受理编号", "编号", "单号", "流水号", "ticket_id", "id"),
    "contact": ("来电人", "联系人", "诉求人", "反映人", "caller"),
    "response": ("回复内容", "办理情况", "处理情况", "答复内容", "办理结果", "处理意见"),
}


def extra_columns(header: list[str]) -> dict[str, str | None]:
    """Which header column holds each of EXTRA_COLUMNS (None when absent)."""
    names = {clean_name(h): h for h in header}
    return {key: next((names[n] for n in wanted if n in names), None) for key, wanted in EXTRA_COLUMNS.items()}


def _run(settings, model, job_id, rows, header, column, out_path: Path, who, save, now, memory_cache=None) -> None:
    store = Store(settings.database)
    try:
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            with store.write() as db:
                db["jobs"].update(job_id, {"done": done})

        time_column = find_time_column(header)
        memory = memory_cache.get(model) if memory_cache is not None else None
        tagged = tag_rows(model, rows, column, now, time_column, progress=progress, memory=memory)
        people, columns = for_people(tagged, header, model.taxonomy)  # staff read this file, not programs
        tmp = out_path.with_suffix(".part" + out_path.suffix)
        write_table(people, columns, tmp, out_path.suffix.lstrip("."))
        tmp.replace(out_path)
        counts = {}
        if save:
            extra = extra_columns(header)
            entries = [_entry(r, str(r.get(column)), parse_time(r.get(time_column), now) if time_column else now,
                              model.version, extra)
                       for r in tagged if str(r.get(column) or "").strip()]
            reused: set[int] = set()  # the same file uploaded twice: each ticket is entered once
            repeated: list[int] = []  # another call about an open entry: joined to it, counted apart
            alike: list[int] = []  # new entries that look like an open one: flagged for a person
            ids = store.add_entries(entries, who, reused=reused, repeated=repeated, alike=alike,
                                    zone=model.taxonomy.timezone)
            new = len(set(ids) - reused)
            joined = len(repeated)
            counts = {"saved_new": new, "saved_already": len(ids) - new - joined, "saved_repeat": joined,
                      "saved_alike": len(alike)}
        review = sum(bool(r["needs_review"]) for r in tagged)
        with store.write() as db:
            db["jobs"].update(job_id, {"status": "done", "done": len(rows), "review": review, **counts,
                                       "finished": utc(dt.datetime.now().astimezone())})
    except Exception as e:  # a job must end in a state staff can see, never hang as "running"
        log.exception("任务 %s 失败", job_id)
        with store.write() as db:
            db["jobs"].update(job_id, {"status": "failed", "error": f"处理失败：{type(e).__name__}",
                                       "finished": utc(dt.datetime.now().astimezone())})
    finally:
        store.close()
