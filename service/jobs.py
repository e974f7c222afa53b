"""Background tagging jobs: a worker thread per upload, progress kept in the database."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import uuid
from pathlib import Path

from triage import Model, write_table
from triage.normalize import normalize
from triage.places import find_places
from triage.route import community_time, route
from triage.tables import clean_name
from triage.tagging import centre_deadline, for_people, find_time_column, parse_time, read_time, tag_rows

from .convert import local, utc
from .owners import known_owner
from .schemas import visit_score
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


def recent(store: Store, limit: int = 20) -> list[dict]:
    """The latest uploads (not retraining runs), newest first: to find one to download or take back."""
    return list(store.db.query("SELECT * FROM jobs WHERE output_path IS NOT NULL ORDER BY created DESC LIMIT ?",
                               [limit]))


def describe(job: dict, settings: Settings, tz: str = "Asia/Shanghai") -> dict:
    """API view of a job (times in the community's timezone, as everywhere else)."""
    return {**{k: job.get(k) for k in ("id", "status", "total", "done", "review", "error", "input_name", "who")},
            "created": local(job.get("created"), tz), "finished": local(job.get("finished"), tz),
            "result": json.loads(job["result"]) if job.get("result") else None,
            "saved": job.get("saved_new"), "already": job.get("saved_already"), "repeat": job.get("saved_repeat"),
            "alike": job.get("saved_alike"), "past": job.get("saved_past"), "advanced": job.get("saved_advanced"),
            "notes": json.loads(job["notes"]) if job.get("notes") else [],
            "undone": local(job.get("undone"), tz),
            "download": f"/api/jobs/{job['id']}/download" if job["status"] == "done" and job.get("output_path") else None}


OUTPUT_SUFFIX = {".xls": ".xlsx", ".xlsm": ".xlsx", ".tsv": ".csv", ".txt": ".csv", ".json": ".jsonl"}


def clean_old(settings: Settings, now: dt.datetime) -> int:
    """Remove tagged files older than `job_keep_days` (they hold residents' words and phone numbers), and
    results a job left behind when it failed; returns how many. The ledger keeps what was saved."""
    if not settings.jobs_dir.is_dir():
        return 0
    cutoff = now.timestamp() - settings.job_keep_days * 86400
    removed = 0
    for path in settings.jobs_dir.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:  # another process removed it first
            continue
    return removed


def start(settings: Settings, model: Model, rows: list[dict], header: list[str], column: str, name: str,
          who: str, save: bool, now: dt.datetime, memory_cache=None, notes: list[str] | None = None,
          community: str | None = None, may_close: bool = True) -> str:
    """Record a job and start tagging it in a background thread; returns the job id.

    `community`: the uploader's 社区, for tickets whose file has no 所属社区 column. `may_close`: whether the
    uploader may 销号 (TRIAGE_CLOSE_ROLE); an old ledger's 已销号 stops at 已回访 for them."""
    clean_old(settings, now)
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
                              args=(settings, model, job_id, rows, header, column, out_path, who, save, now, memory_cache,
                                    community, may_close))
    worker.start()
    return job_id


def _entry(row: dict, text: str, received: dt.datetime, model: Model, extra: dict[str, str | None],
           now: dt.datetime) -> dict:
    # the deadline is the tagged row's: the centre's own when its export gives a plausible one (tag_rows)
    deadline = dt.datetime.fromisoformat(row["deadline"]) if row.get("deadline") else None
    notes = [n for n in str(row.get("notes") or "").split("；") if n]
    places = find_places(text)
    ref, contact, reply = (_cell(row.get(extra[k])) if extra[k] else None for k in ("ref", "contact", "response"))
    handler = _cell(row.get(extra["handler"])) if extra["handler"] else None
    if ref and len(ref) < 6:
        ref = None  # a row number (1, 2, 3…), not a hotline ticket number: it would match other files' rows
    if ref and _LOST_DIGITS.fullmatch(ref):  # "2.02611E+12": two tickets would look like one
        notes.append(f"工单编号“{ref}”的位数已丢失（文件被存成了科学计数法），请按原工单补录")
        ref = None
    phone = _phone(row.get(extra["phone"])) if extra["phone"] else None
    if extra["phone"] and _LOST_DIGITS.fullmatch(str(row.get(extra["phone"]) or "").strip()):
        notes.append(f"联系电话“{str(row.get(extra['phone'])).strip()}”的位数已丢失（文件被存成了科学计数法），请补录")
    if phone:  # 回访 needs it: "张桂兰 13812345678"
        contact = f"{contact} {phone}" if contact and phone not in contact else contact or phone
    address = (_cell(row.get(extra["address"])) or "") if extra["address"] else ""
    if address and not re.search(r"[\u4e00-\u9fff\d]", address):
        address = ""  # "-", "/", "无"
    community = (_cell(row.get(extra["community"])) or "")[:40] if extra["community"] else ""
    if address:  # the 诉求地址 names the estate and building; the words may only say "8号楼"
        places = [address[:60], *(p for p in places if p not in address)]
    entry = {"text": text, "summary": text[:60], "category": row["category"], "category_name": row["category_name"],
             "secondary": row["secondary"], "owner": row["owner"], "co_owners": row["co_owners"],
             "urgent": row["urgent"], "deadline": utc(deadline), "received_at": utc(received),
             "confidence": row["confidence"], "needs_review": row["needs_review"], "model_version": model.version,
             "source": "tag", "quotes": [text], "speakers": [], "location": "、".join(places[:2]) or None,
             "ref": ref, "contact": contact, "response": reply, "notes": notes,
             **({"address": True} if address else {}), **({"community": community} if community else {})}
    if any(extra[k] for k in ("state", "closed_at", "visit", "closed_flag")):
        entry["source"] = "ledger"  # an office's old 问题台账, not a batch of hotline tickets
    if extra["ledger_id"]:  # our own export: the store checks the number against the entry's words
        number = str(row.get(extra["ledger_id"]) or "").strip().removesuffix(".0")
        if number.isdigit() and 0 < int(number) < 2**53:
            entry["own"] = int(number)
    entry = _as_kept(entry, row, extra, model, received, now)
    if handler and not entry.get("void"):  # "（维修人：李师傅）": who did it, searchable and in the export
        entry["response"] = f"{entry['response']}（维修人：{handler[:20]}）" if entry.get("response") else f"承办：{handler[:20]}"
    return entry


# "1.38123E+10": a phone number Excel turned into a float, its last digits gone
_LOST_DIGITS = re.compile(r"\d(?:\.\d+)?[Ee]\+\d+")


def _phone(value) -> str | None:
    """A phone number as typed: 13812345678 (a number cell, or 1.38123E+10 from a CSV Excel saved) or 0571-8888…"""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"\s", "", str(value))
    if _LOST_DIGITS.fullmatch(text):
        return None  # "1.38123E+10": the digits were lost when the file was saved; nothing to call
    return text[:40] if len(re.sub(r"\D", "", text)) >= 7 else None  # 13812345678, 139-1234-5603, 0571-88881234


# An office's own ledger (问题台账) kept in Excel before: what became of each problem
_CLOSED_WORDS = re.compile(r"^(?:是|已?办结|已?完成|已?处理|已?解决|已办|已?结案|办毕|已?销号|已回访|√|✓|y|yes|true|1)$", re.I)
_OPEN_WORDS = re.compile(r"^(?:否|未办结|未完成|未处理|未解决|办理中|在办|处理中|正在办理|正在处理|跟进中|待办|待处理|待派单|已派单|待分派|已分派"
                         r"|已转办|已交办|已签收|已接收|已受理|已延期|已超期|已挂起|已督办|已回退|已退回|×|✗|n|no|false|0)$", re.I)
_VOID_WORDS = re.compile(r"^(?:已作废|作废|已撤销|撤销|无效|重复件|重复)$")
_DONE_WORDS = re.compile(r"完成|解决|办结|办完|处理完|结案|办毕|销号|回访|已处理|[√✓✔]|^已?结$")
# a 报修登记's 完成情况 says what was done: "已疏通", "已更换灯泡", "修好了", "换了新锁": closed, and that is the result
_REPAIRED = re.compile(r"^已(?:经)?(?:疏通|更换|换好|换了|修复|修好|维修好|修理好|清理|清运|清走|恢复|安装好|加固|补好|处理好|整改完)"
                       r"|(?:修好|换好|弄好|疏通|清走|清理)了?$")
_LATER = re.compile(r"预计|明天|后天|下周|周[一二三四五六日天]前|之前|将|会|等|待|准备")  # "预计明天修好" is a promise
_STILL_OPEN = re.compile(r"[未没](?!回访|销号)|部分|正在|中$|待办|待处理|待解决|跟进")  # "已办结，未回访" is closed


def _as_kept(entry: dict, row: dict, extra: dict[str, str | None], model: Model, received: dt.datetime,
             now: dt.datetime) -> dict:
    """What the old ledger already says about a row: its category and 责任单位 (when they are names the
    taxonomy knows), whether it was closed and when, and the 回访. Kept in `entry["past"]` for the store."""
    said = {k: row.get(extra[k]) if extra[k] else None for k in ("state", "closed_at", "visit", "owner_said",
                                                                 "category_said", "closed_flag")}
    notes = entry["notes"]
    category = str(said["category_said"] or "").strip()
    if category:
        try:
            cat = model.taxonomy.resolve(category)
        except KeyError:
            notes.append(f"原台账类别“{category[:20]}”无法对应，已按模型分类")
        else:
            if cat.code != entry["category"]:
                routing = route(cat, normalize(entry["text"]), received, model.taxonomy)
                entry.update(category=cat.code, category_name=cat.name, owner=routing.owner,
                             secondary=[c for c in entry["secondary"] if c != cat.code],
                             co_owners=list(routing.co_owners), urgent=routing.urgent,
                             # the hotline centre's own 时限, when the file gave one, stands whatever the category
                             deadline=entry["deadline"] if centre_deadline(notes) else utc(routing.deadline))
            entry["needs_review"] = False  # a person filed it under this category
    owner = str(said["owner_said"] or "").strip()
    if owner:
        named = []  # "物业、城管": the first leads, the others assist
        for part in [owner, *re.split(r"[、,，/和及与；;]+", owner)] if re.search(r"[、,，/和及与；;]", owner) else [owner]:
            try:
                named.append(known_owner(part, model.taxonomy))
            except StoreError:  # a name the taxonomy does not know
                continue
            if part == owner:
                break  # the whole cell is one known owner
        if named:
            entry["owner"] = named[0]
            entry["co_owners"] = list(dict.fromkeys([*named[1:], *(o for o in entry["co_owners"] if o not in named)]))
        else:  # an owner the taxonomy does not know stays in the notes
            notes.append(f"原台账责任单位：{owner[:30]}（不是已知的责任主体，已按分类规则派给{entry['owner']}）")
    state = re.sub(r"\s", "", str(said["state"] or ""))
    if _VOID_WORDS.match(state):  # voided in that ledger: never entered again (nor revived, for our own export)
        entry["void"] = True
        return entry
    when, readable = read_time(said["closed_at"], now) if said["closed_at"] not in (None, "") else (None, False)
    # "已办结，未回访", "已完成待回访", "√" are closed; "未办结", "部分解决", "办理中" are not; a 办结日期 alone is closed
    # "已疏通", "已联系师傅，已修好": a clause saying the repair was made (not promised) means done
    repaired = any(_REPAIRED.search(c) and not _LATER.search(c) for c in re.split(r"[，,；;。]", state) if c)
    # "已派维修组", "已联系厂家": on its way, not done
    on_way = (bool(re.match(r"^已(?:派|转|交|分派|安排|联系|通知|报|上报|约|受理|登记)", state))
              and not _DONE_WORDS.search(state) and not repaired)
    still = bool(_STILL_OPEN.search(state)) or bool(_OPEN_WORDS.match(state)) or on_way
    closed = not still and (bool(_CLOSED_WORDS.match(state)) or bool(_DONE_WORDS.search(state)) or (not state and readable))
    if state and not closed and not still and repaired:
        closed = True  # done, and what was done is the 办理情况 when the row gives none
        if not entry.get("response"):
            entry["response"] = str(said["state"]).strip()[:200]
    if state and not closed and not still:  # a word nobody taught us: entered as new, and said so
        notes.append(f"原台账状态“{state[:20]}”无法识别，已按待派单登记，请核对")
        entry["needs_review"] = True
        return entry
    if not closed and not still:
        return entry  # nothing says what became of it: a new problem, 待派单
    if when is not None and readable and closed:
        when, start = community_time(when, model.taxonomy), community_time(received, model.taxonomy)
        if not start <= when <= community_time(now, model.taxonomy):  # before the problem came in, or in the future
            notes.append(f"原台账办结日期“{str(said['closed_at']).strip()[:20]}”"
                         f"{'早于反映日期' if when < start else '晚于今天'}，请核对")
            entry["needs_review"] = True
            when = None
    else:
        when = None
    score = visit_score(said["visit"]) if closed else None  # a 回访 of an open problem is not kept
    flag = re.sub(r"\s", "", str(said["closed_flag"] or ""))
    cancelled = ("销号" in state and "未销号" not in state) or bool(_CLOSED_WORDS.match(flag))
    opened = ("已派单" if re.match(r"^(?:已派单|已分派|已转办|已交办)$", state) or on_way else "待派单" if re.match(r"^(?:待派单|待分派)$", state)
              else "办理中" if entry["response"] or re.search(r"办理中|在办|处理中|正在|跟进", state) else "待派单")
    status = ("已销号" if cancelled and score and score >= 3 else "已回访" if score and score >= 3
              else "办理中" if score else "已办结") if closed else opened
    told = "；".join(f"{name}“{str(value).strip()[:20]}”" for name, value in
                    (("状态", said["state"]), ("办结", said["closed_at"]), ("回访", said["visit"])) if value not in (None, ""))
    entry["past"] = {"status": status, "closed": closed, "closed_at": utc(when) if when else None,
                     "satisfaction": score, "feedback": str(said["visit"]).strip()[:200] if score else None,
                     "note": f"按原台账：{told}" + ("" if when or not closed else "（办结时间不详，不计入按时办结率）")}
    return entry


def _cell(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:200] or None


# Columns of a 12345 export kept in the ledger: the ticket number (so the entry links back to the
# hotline system and is never entered twice), the caller (for 回访) and any reply already given.
EXTRA_COLUMNS = {
    # the 台账编号 of this product's own export: the row is that entry, uploaded back after someone filled it in
    "ledger_id": ("台账编号",),
    "ref": ("工单编号", "工单号", "受理编号", "编号", "单号", "流水号", "ticket_id", "id"),
    # where the problem is, as the hotline typed it, and which 社区 it belongs to
    "address": ("诉求地址", "事发地址", "发生地址", "问题地址", "反映地址", "事发地点", "地址", "房号", "门牌号", "报修地址",
                "报修位置", "address"),
    "community": ("所属社区", "社区名称", "社区", "community"),
    "contact": ("来电人", "联系人", "诉求人", "反映人", "来访人", "报修人", "caller"),
    # who in the handling office did it (a 物业's 维修人): kept in the 办理情况, so the search finds a team's items
    "handler": ("维修人", "维修师傅", "承办人", "经办人", "处理人", "负责人", "维修班组", "班组"),
    "phone": ("联系电话", "电话", "联系方式", "手机", "手机号", "电话号码"),
    "response": ("回复内容", "办理情况", "处理情况", "答复内容", "办理结果", "处理结果", "处理意见", "维修结果", "维修情况"),
    # an office's own 问题台账: what became of each problem
    "state": ("是否办结", "办结情况", "办理状态", "处理状态", "状态", "完成情况", "是否完成"),
    "closed_at": ("办结日期", "办结时间", "完成时间", "完成日期", "销号日期", "销号时间"),
    "closed_flag": ("是否销号",),
    "visit": ("回访情况", "回访结果", "回访满意度", "满意度", "群众满意度", "回访"),
    "owner_said": ("责任单位", "责任主体", "承办单位", "处理单位", "办理单位"),
    "category_said": ("问题类别", "问题类型", "问题分类", "所属类别", "类别", "类型"),
}


def extra_columns(header: list[str]) -> dict[str, str | None]:
    """Which header column holds each of EXTRA_COLUMNS (None when absent)."""
    names = {clean_name(h): h for h in header}
    return {key: next((names[n] for n in wanted if n in names), None) for key, wanted in EXTRA_COLUMNS.items()}


def _run(settings, model, job_id, rows, header, column, out_path: Path, who, save, now, memory_cache=None,
         community: str | None = None, may_close: bool = True) -> None:
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
            now = community_time(now, model.taxonomy)  # the community's day, for dates typed without a year
            entries = [_entry(r, str(r.get(column)), parse_time(r.get(time_column), now) if time_column else now,
                              model, extra, now)
                       for r in tagged if str(r.get(column) or "").strip()]
            reused: set[int] = set()  # the same file uploaded twice: each ticket is entered once
            repeated: list[int] = []  # another call about an open entry: joined to it, counted apart
            alike: list[int] = []  # new entries that look like an open one: flagged for a person
            advanced: list[int] = []  # an updated old ledger again: entries it moved on (办结, 回访)
            ids = store.add_entries(entries, who, reused=reused, repeated=repeated, alike=alike, advanced=advanced,
                                    zone=model.taxonomy.timezone, job_id=job_id, community=community,
                                    may_close=may_close)
            voided = ids.count(None)  # rows the uploaded ledger marks 已作废
            entries, ids = [e for e, i in zip(entries, ids) if i is not None], [i for i in ids if i is not None]
            new = len(set(ids) - reused)
            joined = len(repeated)
            kept = {i for e, i in zip(entries, ids) if e.get("past") and e["past"]["status"] != "待派单"} - reused
            if voided:
                job_notes = json.loads(next(store.db.query("SELECT notes FROM jobs WHERE id = ?", [job_id]))["notes"] or "[]")
                job_notes.append(f"{voided} 行在上传的台账里是“已作废”，没有登记")
                with store.write() as db:
                    db["jobs"].update(job_id, {"notes": json.dumps(job_notes, ensure_ascii=False)})
            counts = {"saved_new": new, "saved_already": len(ids) - new - joined, "saved_repeat": joined,
                      "saved_alike": len(alike), "saved_past": len(kept), "saved_advanced": len(set(advanced))}
        review = sum(bool(r["needs_review"]) for r in tagged)
        with store.write() as db:
            db["jobs"].update(job_id, {"status": "done", "done": len(rows), "review": review, **counts,
                                       "finished": utc(dt.datetime.now().astimezone())})
    except Exception as e:  # a job must end in a state staff can see, never hang as "running"
        log.exception("任务 %s 失败", job_id)
        out_path.unlink(missing_ok=True)  # no download is offered: do not keep residents' words
        with store.write() as db:
            db["jobs"].update(job_id, {"status": "failed", "error": f"处理失败：{type(e).__name__}",
                                       "finished": utc(dt.datetime.now().astimezone())})
    finally:
        store.close()
