"""Background tagging jobs: a worker thread per upload, progress kept in the database."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from pathlib import Path

from triage import Model, write_table
from triage.tagging import for_people, find_time_column, parse_time, tag_rows

from .convert import utc
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


def describe(job: dict, settings: Settings) -> dict:
    """API view of a job."""
    return {**{k: job.get(k) for k in ("id", "status", "total", "done", "review", "created", "finished", "error",
                                       "input_name")},
            "download": f"/api/jobs/{job['id']}/download" if job["status"] == "done" else None}


OUTPUT_SUFFIX = {".xls": ".xlsx", ".xlsm": ".xlsx", ".tsv": ".csv", ".txt": ".csv", ".json": ".jsonl"}


def start(settings: Settings, model: Model, rows: list[dict], header: list[str], column: str, name: str,
          who: str, save: bool, now: dt.datetime, memory_cache=None) -> str:
    """Record a job and start tagging it in a background thread; returns the job id."""
    job_id = uuid.uuid4().hex[:12]
    suffix = Path(name).suffix.lower()
    suffix = OUTPUT_SUFFIX.get(suffix, suffix)  # results go out in a format we write
    out_name = f"{Path(name).stem}_已分类{suffix}"
    out_path = settings.jobs_dir / f"{job_id}{suffix}"
    with Store(settings.database) as store, store.write() as db:
        db["jobs"].insert({"id": job_id, "status": "running", "total": len(rows), "done": 0, "review": None,
                           "created": utc(now), "finished": None, "error": None, "input_name": name,
                           "output_path": str(out_path), "output_name": out_name, "who": who, "saved": int(save)})
    worker = threading.Thread(target=_run, name=f"job-{job_id}", daemon=True,
                              args=(settings, model, job_id, rows, header, column, out_path, who, save, now, memory_cache))
    worker.start()
    return job_id


def _entry(row: dict, text: str, received: dt.datetime, version: str) -> dict:
    deadline = dt.datetime.fromisoformat(row["deadline"]) if row.get("deadline") else None
    return {"text": text, "summary": text[:60], "category": row["category"], "category_name": row["category_name"],
            "secondary": row["secondary"], "owner": row["owner"], "co_owners": row["co_owners"],
            "urgent": row["urgent"], "deadline": utc(deadline), "received_at": utc(received),
            "confidence": row["confidence"], "needs_review": row["needs_review"], "model_version": version,
            "source": "tag", "quotes": [text], "speakers": []}


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
        if save:
            entries = [_entry(r, str(r.get(column)), parse_time(r.get(time_column), now) if time_column else now,
                              model.version)
                       for r in tagged if str(r.get(column) or "").strip()]
            store.add_entries(entries, who)
        review = sum(bool(r["needs_review"]) for r in tagged)
        with store.write() as db:
            db["jobs"].update(job_id, {"status": "done", "done": len(rows), "review": review,
                                       "finished": utc(dt.datetime.now().astimezone())})
    except Exception as e:  # a job must end in a state staff can see, never hang as "running"
        log.exception("任务 %s 失败", job_id)
        with store.write() as db:
            db["jobs"].update(job_id, {"status": "failed", "error": f"处理失败：{type(e).__name__}",
                                       "finished": utc(dt.datetime.now().astimezone())})
    finally:
        store.close()
