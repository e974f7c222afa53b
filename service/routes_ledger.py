"""Ledger endpoints: save, list, get, update, status lifecycle, corrections, statistics, export."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from triage.notes import summarize
from triage.places import find_places, search_variants
from triage.route import add_working_days, community_time, route
from triage.tagging import CENTRE_NOTE, URGENT_OVER_CENTRE, centre_deadline
from triage.normalize import normalize

from .convert import entry_from_issue, entry_from_result, local, overdue_level, received_between, utc
from .deps import EntryId, ModelDep, Staff, StoreDep, Viewer
from .owners import known_owner
from .schemas import CorrectionIn, EntryOut, EntryPatch, MergeIn, SaveIn, SplitIn, StatusIn
from .settings import FIELD_NAMES, ROLES
from .store import CLOSED, DONE, NUMERALS, SOURCE_NAMES, STATUSES, like_escape, split_words, text_key

router = APIRouter(prefix="/api", tags=["台账 ledger"])

TIME_FIELDS = ("deadline", "received_at", "created", "updated")
OPEN_STATUS, OPEN = "未办结", ("待派单", "已派单", "办理中")
LIVE_STATUS = "未作废"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def view(entry: dict, tz: str, now: dt.datetime | None = None) -> dict:
    """An entry as the API shows it: local times and its overdue level."""
    out = dict(entry)
    out["overdue"] = overdue_level(entry, now or _now())
    for key in TIME_FIELDS:
        out[key] = local(entry.get(key), tz)
    return out


@router.post("/entries", response_model=list[EntryOut], status_code=201)
def save_entries(body: SaveIn, model: ModelDep, store: StoreDep, caller: Staff) -> list[dict]:
    """Save reviewed issues (e.g. from /api/extract, after corrections) as ledger entries."""
    for issue in body.issues:  # a code or the Chinese name ("宠物管理")
        if issue.received_at is not None:  # a time without a zone is the community's
            issue.received_at = community_time(issue.received_at, model.taxonomy)
        try:
            issue.category = model.taxonomy.resolve(issue.category).code
        except KeyError as err:
            raise HTTPException(400, str(err.args[0])) from None
    for issue in body.issues:
        # only what the taxonomy knows enters the ledger: owners by their names, the category by its own name
        issue.category_name = model.taxonomy.get(issue.category).name
        if issue.owner:
            issue.owner = known_owner(issue.owner, model.taxonomy)
        issue.co_owners = [known_owner(c, model.taxonomy) for c in issue.co_owners]
    now = _now()
    reused: set[int] = set()  # the same text already in the ledger, still open: not entered twice
    # 受理时间 is when the problem was raised (the meeting's date, sent back by /api/extract), not now
    ids = store.add_entries([entry_from_issue(i.model_dump(), min(i.received_at or now, now), model.version, body.source)
                             for i in body.issues], caller.name, reused=reused, community=caller.community)
    return [{**view(store.get_entry(i), model.taxonomy.timezone), "already": i in reused} for i in ids]


def _filter_sql(status, category, owner, urgent, overdue, q, date_from, date_to, needs_review, now,
                job=None, community=None, due=None, source=None) -> tuple[str, list]:
    clauses, params = [], []
    if source:  # how it came in: 工单批量导入 (12345), 纪要, 单条登记 …
        clauses.append("source = ?")
        params.append(source)
    if due is not None:  # still to be done by then: open, with a 时限 not later (the late ones included)
        clauses.append(f"status NOT IN ({','.join('?' * len(CLOSED))}) AND deadline IS NOT NULL "
                       "AND julianday(deadline) <= julianday(?)")
        params += [*CLOSED, utc(due)]
    if community:  # the 社区 a ticket belongs to, as its export named it
        clauses.append("community = ?")
        params.append(community)
    if job:  # the entries one upload entered (撤销导入 uses the same column)
        clauses.append("job_id = ?")
        params.append(job)
    status = (status or "").strip() or None  # "办理中 " with the space an input method left
    if status == OPEN_STATUS:  # 未办结: everything not yet handled (待派单, 已派单, 办理中), as a 书记 asks for it
        clauses.append(f"status IN ({', '.join('?' * len(OPEN))})")
        params.extend(OPEN)
    elif status == LIVE_STATUS:  # 未作废: the 台账 page's default, so voided duplicates do not fill an owner's list
        clauses.append("status != ?")
        params.append("已作废")
    elif status:
        if status not in STATUSES:
            raise HTTPException(400, f"未知状态“{status}”，可用：{'、'.join(STATUSES)}、{OPEN_STATUS}、{LIVE_STATUS}")
        clauses.append("status = ?")
        params.append(status)
    if category:
        clauses.append("category = ?")
        params.append(category)
    if owner:
        # the lead or a co-owner, by exact name (co_owners is a JSON list)
        clauses.append("(owner = ? OR EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(entries.co_owners) "
                       "THEN entries.co_owners ELSE '[]' END) WHERE value = ?))")
        params += [owner, owner]
    if urgent is not None:
        clauses.append("urgent = ?")
        params.append(int(urgent))
    if needs_review is not None:
        clauses.append("needs_review = ?")
        params.append(int(needs_review))
    if overdue:
        open_ = f"status NOT IN ({','.join('?' * len(CLOSED))}) AND deadline IS NOT NULL"
        params += list(CLOSED)
        red = "julianday(?) > julianday(deadline)"
        yellow = ("julianday(?) <= julianday(deadline) AND julianday(?) >= julianday(received_at) + "
                  "0.8 * (julianday(deadline) - julianday(received_at))")
        stamp = utc(now)
        if overdue == "red":
            clauses.append(f"{open_} AND {red}")
            params.append(stamp)
        elif overdue == "yellow":
            clauses.append(f"{open_} AND {yellow}")
            params += [stamp, stamp]
        else:
            clauses.append(f"{open_} AND (({red}) OR ({yellow}))")
            params += [stamp, stamp, stamp]
    if q:  # 三号楼 also finds 3号楼 and 3栋; a ticket number finds its entry
        # text_key is the text in simplified characters without punctuation: 烧烤 finds 燒烤
        # a ticket number finds its entry, also when it was a repeat call about an entry already there
        ticket = "ref = ? OR EXISTS (SELECT 1 FROM repeats WHERE repeats.entry_id = entries.id AND repeats.ref = ?)"
        # the caller (来电人/反映人, with a phone number) and who raised it at a meeting are searched too
        # and the 办理情况, where a 物业 writes which of its teams took it ("维修组李师傅")
        one = (f"text LIKE ? ESCAPE '\\' OR summary LIKE ? ESCAPE '\\' OR location LIKE ? ESCAPE '\\' "
               f"OR contact LIKE ? ESCAPE '\\' OR speakers LIKE ? ESCAPE '\\' OR community LIKE ? ESCAPE '\\' "
               f"OR response LIKE ? ESCAPE '\\' OR {ticket}")
        # a number must match whole: 2号楼 is not 12号楼
        whole = (f"has_term(text, ?) OR has_term(summary, ?) OR has_term(location, ?) OR has_term(contact, ?) "
                 f"OR has_term(speakers, ?) OR has_term(community, ?) OR has_term(response, ?) OR {ticket}")
        for term in q.split():  # "三号楼 电梯": every word must be found
            ors = []
            for v in search_variants(term):
                numbered = v[0] in NUMERALS
                ors.append(whole if numbered else one)
                params += ([v] * 7 if numbered else ["%" + like_escape(v) + "%"] * 7) + [v, v]
                # a query of punctuation alone has no key, and 3# keys as a bare 3: neither may match everything
                if text_key(v) and not all(c in NUMERALS for c in text_key(v)):
                    ors.append("has_term(text_key, ?)" if numbered else "text_key LIKE ? ESCAPE '\\'")
                    params.append(text_key(v) if numbered else "%" + like_escape(text_key(v)) + "%")
            clauses.append("(" + " OR ".join(ors) + ")")
    more, values = received_between(date_from, date_to)
    clauses += more
    params += values
    return " AND ".join(clauses), params


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MONTH = re.compile(r"^ *(\d{4}) *[-/.年] *(\d{1,2}) *月? *$")
_DAY = re.compile(r"^ *(\d{4}) *[-/.年] *(\d{1,2}) *[-/.月] *(\d{1,2}) *[日号]? *$")
# "11月29日", "11月", without the year: the latest such day or month that is not in the future
_SHORT_DAY = re.compile(r"^ *(\d{1,2}) *月 *(\d{1,2}) *[日号]? *$")
_SHORT_MONTH = re.compile(r"^ *(\d{1,2}) *月(?:份)? *$")


def _day_text(when: dt.datetime | None) -> str:
    return "" if when is None else when.strftime("%Y-%m-%d" if when.time() == dt.time(0, 0) else "%Y-%m-%d %H%M")


def day_bound(text: str | None, what: str, end: bool = False, tz: str = "Asia/Shanghai") -> dt.datetime | None:
    """A date filter as staff write it: 2026-11-01, 2026/11/1, 2026年11月1日, a whole month (2026-11), or ISO.

    A month as an end is its last day; a day without a time is the whole day (see `received_between`).
    """
    if not text or not text.strip():
        return None
    bad = HTTPException(400, f"{what}“{text.strip()[:20]}”无法识别或不存在，请写成 2026-11-01、11月1日、2026-11（整月）或 2026-11-01 09:00。")
    today = _now().astimezone(ZoneInfo(tz)).date()
    # a day or month said without its year: the nearest one (11月30日 typed on 11月26日 is this year's,
    # 12月 typed in January is last year's)
    if m := _SHORT_DAY.match(text):
        month, day = int(m[1]), int(m[2])
    elif m := _SHORT_MONTH.match(text):
        month, day = int(m[1]), 1
    if m and 1 <= month <= 12:
        offset = (month - today.month) * 31 + (day - today.day)  # roughly, in days
        year = today.year - (offset > 183) + (offset < -183)
        text = f"{year}-{m[1]}-{m[2]}" if m.re is _SHORT_DAY else f"{year}-{m[1]}"
    try:
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            first = dt.datetime(year, month, 1)
            when = first if not end else (dt.datetime(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1))
        elif m := _DAY.match(text):
            when = dt.datetime(int(m[1]), int(m[2]), int(m[3]))
        else:
            when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise bad from None
    if not 2000 <= when.year <= 2100:  # a ledger has no entries from year 1 or 9999 (and UTC would overflow)
        raise bad
    return when


# every query parameter the ledger list, its 统计 and its export read (a token may come as api_key)
_FILTER_PARAMS = ("status", "category", "owner", "urgent", "needs_review", "overdue", "q", "date_from", "date_to", "job",
                  "community", "due", "source")
# how an entry came in, as staff say it: "12345的有多少件没办完" means the uploaded hotline tickets
_SOURCE_WORDS = {**{name: code for code, name in SOURCE_NAMES.items()}, "12345": "tag", "热线": "tag", "工单": "tag",
                 "批量导入": "tag", "会议纪要": "extract", "板凳会": "extract", "巡查": "extract", "登记": "classify"}
_SHOWN_PARAMS = (*_FILTER_PARAMS, "limit", "offset")
_KNOWN_PARAMS = frozenset((*_SHOWN_PARAMS, "api_key"))


class Filters:
    """The ledger filters, shared by the list and the Excel export (the export shows what the page shows)."""

    def __init__(self, request: Request, model: ModelDep, store: StoreDep,
                 status: str | None = None, category: str | None = None, owner: str | None = None,
                 urgent: bool | None = None, needs_review: bool | None = None,
                 overdue: Literal["yellow", "red", "any"] | None = None,
                 q: Annotated[str | None, Query(max_length=100, description="全文搜索")] = None,
                 date_from: Annotated[str | None, Query(max_length=40, description="受理时间起：2026-11-01、2026-11（整月）或带时间")] = None,
                 date_to: Annotated[str | None, Query(max_length=40, description="受理时间止：2026-11-30（含当天）、2026-11（整月）或带时间")] = None,
                 job: Annotated[str | None, Query(max_length=40, description="上传批次编号：只看这次上传录入的问题")] = None,
                 community: Annotated[str | None, Query(max_length=40, description="所属社区（工单表“所属社区”列）")] = None,
                 due: Annotated[Literal["today", "week"] | None, Query(description="today 今天到期 / week 本周到期（未办结，含已逾期）")] = None,
                 source: Annotated[str | None, Query(max_length=20, description="来源：tag/12345 工单批量导入、extract 纪要、classify 单条登记、open311、ledger 原台账导入")] = None):
        # a misspelt filter (statu=…) would silently show everything
        if unknown := sorted(set(request.query_params) - _KNOWN_PARAMS):
            raise HTTPException(400, f"不认识的筛选条件：{'、'.join(unknown)}。可用：{'、'.join(_SHOWN_PARAMS)}。")
        job = (job or "").strip() or None
        upload = ""
        if job:
            row = next(store.db.query("SELECT input_name FROM jobs WHERE id = ?", [job]), None)
            if row is None:
                raise HTTPException(404, f"没有编号为 {job} 的上传记录（可在“上传记录”里查看）。")
            upload_name = row["input_name"] or job
            upload = f"上传《{upload_name}》"
        name = None
        if category:
            try:
                found = model.taxonomy.resolve(category)
            except KeyError as e:
                raise HTTPException(400, str(e.args[0])) from None
            category, name = found.code, found.name
        if owner:
            owner = known_owner(owner, model.taxonomy)  # a misspelt owner is named, not answered with zeros
        q = _CONTROL.sub("", q or "").strip() or None  # a NUL would cut the LIKE pattern down to "%"
        zone = model.taxonomy.timezone
        start, end = day_bound(date_from, "开始日期", tz=zone), day_bound(date_to, "结束日期", end=True, tz=zone)
        if start and end and utc(start) > utc(end):  # compared in UTC: one may carry a zone, the other not
            raise HTTPException(400, f"开始日期（{date_from}）晚于结束日期（{date_to}），请对调。")
        # the range as the file name and the 汇总 say it, from the parsed dates (never the raw text)
        span = "至".join(_day_text(x) for x in (start, end)) if (start or end) else ""
        # what the file name says was selected: 问题台账-物业服务企业-办理中-2026-11-20261125.xlsx
        community = (community or "").strip() or None
        if source:
            source = source.strip()
            source = source if source in SOURCE_NAMES else _SOURCE_WORDS.get(source)
            if source is None:
                raise HTTPException(400, f"不认识的来源。可用：{'、'.join(f'{c}（{n}）' for c, n in SOURCE_NAMES.items())}。")
        named = [x for x in (community, SOURCE_NAMES.get(source or ""), owner, status if status != LIVE_STATUS else None, name, {"red": "已逾期", "yellow": "将逾期", "any": "逾期或将逾期"}
                             .get(overdue or ""), {"today": "今天到期", "week": "本周到期"}.get(due or ""), span) if x]
        self.label = "-".join(named + ([f"上传{Path(upload_name).stem[:20]}"] if upload else []))  # the file name
        self.parts = ([upload] if upload else []) + named + ([f"搜索“{q}”"] if q else [])  # the 汇总's 统计范围 also says the search
        self.status = (status or "").strip() or None
        self.now = _now()
        by = None
        if due:  # the end of today, or of this week's Sunday, in the community's time
            local_now = self.now.astimezone(ZoneInfo(zone))
            end_day = local_now.date() + dt.timedelta(days=0 if due == "today" else 6 - local_now.weekday())
            by = dt.datetime.combine(end_day, dt.time(23, 59, 59), tzinfo=ZoneInfo(zone))
        self.clause, self.params = _filter_sql(status, category, owner, urgent, overdue, q, start, end,
                                               needs_review, self.now, job, community, by, source)
        # the same without the dates: a repeat call is counted in the period it came in, whenever its entry did
        self.undated, self.undated_params = _filter_sql(status, category, owner, urgent, overdue, q, None, None,
                                                        needs_review, self.now, job, community, by, source)
        self.start, self.end = (utc(x) if x else None for x in (start, end))
        self.where = f" WHERE {self.clause}" if self.clause else ""


@router.get("/entries")
def list_entries(
    model: ModelDep, store: StoreDep, caller: Viewer, filters: Annotated[Filters, Depends()],
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
) -> dict:
    """List ledger entries with filters and paging (newest first)."""
    where, params = filters.where, filters.params
    total = next(store.db.query(f"SELECT count(*) AS n FROM entries{where}", params))["n"]
    rows = store.db.query(f"SELECT * FROM entries{where} ORDER BY id DESC LIMIT ? OFFSET ?", [*params, limit, offset])
    tz = model.taxonomy.timezone
    return {"total": total, "limit": limit, "offset": offset,
            "items": [view(store.decode(r), tz, filters.now) for r in rows]}


@router.get("/communities")
def communities(store: StoreDep, caller: Viewer) -> list[str]:
    """The 所属社区 named by uploaded tickets, for the ledger's 社区 filter (empty when none was)."""
    return [r["community"] for r in store.db.query(
        "SELECT DISTINCT community FROM entries WHERE community IS NOT NULL AND community != '' ORDER BY community")]


@router.get("/entries/{entry_id}", response_model=EntryOut)
def get_entry(entry_id: EntryId, model: ModelDep, store: StoreDep, caller: Viewer) -> dict:
    """One ledger entry."""
    return view(store.get_entry(entry_id), model.taxonomy.timezone)


@router.get("/entries/{entry_id}/history")
def entry_history(entry_id: EntryId, model: ModelDep, store: StoreDep, caller: Viewer) -> list[dict]:
    """Every change to an entry: who, when, from, to, note."""
    store.get_entry(entry_id)
    tz = model.taxonomy.timezone

    def shown(field: str, value: str | None) -> str | None:  # stored times are UTC; people read local time
        return local(value, tz) if field in TIME_FIELDS and value else value

    return [{**h, "at": local(h["at"], tz), "from_value": shown(h["field"], h["from_value"]),
             "to_value": shown(h["field"], h["to_value"])} for h in store.history(entry_id)]


def _in_scope(entry_id: EntryId, request: Request, store: StoreDep, caller: Staff) -> None:
    """With TRIAGE_COMMUNITY_SCOPE on, a staff token of one 社区 handles that 社区's entries only."""
    _check_scope(store.get_entry(entry_id), request, caller)


def _check_scope(entry: dict, request: Request, caller) -> None:
    if (request.app.state.settings.community_scope and caller.community and caller.role != "admin"
            and entry.get("community") and entry["community"] != caller.community):
        raise HTTPException(403, f"编号 {entry['id']} 属于{entry['community']}；您的令牌只能办理{caller.community}的记录，"
                                 "请转给该社区的工作人员。")


InScope = Annotated[None, Depends(_in_scope)]


@router.patch("/entries/{entry_id}", response_model=EntryOut)
def update_entry(entry_id: EntryId, body: EntryPatch, request: Request, model: ModelDep, store: StoreDep,
                 caller: Staff, _: InScope) -> dict:
    """Edit summary, place, response or owner (one the taxonomy knows); `note` says why."""
    changes = body.model_dump(exclude_none=True)
    note = changes.pop("note", "")
    seen = changes.pop("seen", None)
    if not changes:
        fields = "、".join(f"{k}（{FIELD_NAMES[k]}）" for k in ("summary", "location", "response", "owner", "community",
                                                              "urgent", "deadline"))
        raise HTTPException(400, f"没有要修改的内容。可以修改的是：{fields}。")
    if "urgent" in changes or "deadline" in changes:  # a wrong 紧急 or 办理时限 is put right, with a reason
        if not (note or "").strip():
            raise HTTPException(400, "调整紧急程度或办理时限需要写明原因（note），例如：经核实不属于紧急情况。")
        current = store.get_entry(entry_id)
        if current["status"] in CLOSED:  # what it was done by is history (按时办结率)
            raise HTTPException(409, f"这条记录{current['status']}，办理时限和紧急程度不能再调整。")
        received = _received(current, model.taxonomy)
        if "deadline" in changes:
            when, clock = _typed_time(changes["deadline"], "办理时限", model.taxonomy, after=received)
            if not clock and when < received and when.date() == received.date():
                when = when.replace(hour=23, minute=59)  # the day it came in, after working hours: that day's end
            if when < received:
                raise HTTPException(400, "办理时限早于受理时间，请核对。")
            changes["deadline"] = utc(when)
        elif centre_deadline(current.get("notes")):
            changes.pop("deadline", None)  # the hotline centre's own 时限 stands; only 紧急 changes
        else:  # 紧急 changed alone: the deadline follows, as the category's rules give it
            routing = route(current["category"], normalize(current["text"]), received, model.taxonomy)
            if changes["urgent"]:  # 24 hours from now when it turns out urgent later, never already past
                start = max(received, community_time(_now(), model.taxonomy))
                when = start + dt.timedelta(hours=model.taxonomy.urgent_hours)
            else:  # the working days a rule gives (新建充电桩 20), else the category's
                days = routing.deadline_days or model.taxonomy.get(current["category"]).deadline_days
                when = add_working_days(received, days, model.taxonomy)[0] if days else None
            changes["deadline"] = utc(when) if when else None
    if "owner" in changes:
        changes["owner"] = known_owner(changes["owner"], model.taxonomy)
        current = store.get_entry(entry_id)
        if changes["owner"] != current.get("owner"):
            if not (note or "").strip():  # a handover is explained in the 办理记录, as on the page
                raise HTTPException(400, "转交需要写明原因（note），例如：属市政道路，不在物业管理范围。")
            # the new lead is not also its own 协办
            changes["co_owners"] = [c for c in current.get("co_owners") or [] if c != changes["owner"]]
    edited = store.edit_entry(entry_id, changes, caller.name, note, seen)
    if "owner" in changes:
        request.app.state.memory.invalidate()  # the same ticket again goes to the owner it was handed to
    return view(edited, model.taxonomy.timezone)


@router.post("/entries/{entry_id}/status", response_model=EntryOut)
def change_status(entry_id: EntryId, body: StatusIn, request: Request, model: ModelDep, store: StoreDep,
                  caller: Staff, _: InScope) -> dict:
    """Move along 待派单 → 已派单 → 办理中 → 已办结 → 已回访 → 已销号 (or 已作废, with a reason).

    已办结 needs a result (the entry's 办理情况 or the note); an administrator may reopen 已销号, with a reason.
    """
    close_role = request.app.state.settings.close_role
    if body.status == "已销号" and ROLES.index(caller.role) < ROLES.index(close_role):
        # a 书记 may keep 销号 for herself (TRIAGE_CLOSE_ROLE=admin); grid workers still close (办结) and visit
        raise HTTPException(403, "销号需要管理员权限（本台账设定只有管理员可以销号），请联系社区负责人。")
    done_at = None
    if body.done_at:
        done_at, clock = _typed_time(body.done_at, "实际办结时间", model.taxonomy)
        if not clock:  # "11月22日": that day's end, but not later than now nor before the problem came in
            entry = store.get_entry(entry_id)
            done_at = min(done_at, community_time(_now(), model.taxonomy))
            if entry.get("received_at"):  # the day it came in: not before the hour it came in (an earlier day is refused)
                received = _received(entry, model.taxonomy)
                done_at = max(done_at, received) if done_at.date() == received.date() else done_at
    entry = store.set_status(entry_id, body.status, caller.name, body.note or "", body.satisfaction, body.feedback,
                             body.seen, admin=caller.role == "admin", done_at=done_at)
    return view(entry, model.taxonomy.timezone)


def _refiled_deadline(entry: dict, routed: dt.datetime | None) -> str | None:
    """The 办理时限 of an entry filed anew (corrected, or what is left after a split): the routing's, but the
    hotline centre's own 时限 stands whatever the category (a 12345 ticket is answered by it)."""
    return entry["deadline"] if centre_deadline(entry.get("notes")) and entry.get("deadline") else utc(routed)


def _refiled_notes(entry: dict, routing, received: dt.datetime, taxonomy) -> tuple[str | None, list[str]]:
    """The 办理时限 and notes of an entry filed under another category: what the old category's rules said
    goes (a 街道 desk tester found "紧急事项按 24 小时处置" on an entry corrected to 物业服务), the new rules'
    reasons come in; the centre's own 时限 stands, and comes back when an urgent ticket turns out not urgent."""
    deadline = _refiled_deadline(entry, routing.deadline)
    old = route(entry["category"], normalize(entry["text"]), received, taxonomy) if entry["category"] in taxonomy.codes else None
    stale = set(old.reasons) | {old.calendar_note} if old else set()
    notes = []
    for n in entry.get("notes") or []:
        given = URGENT_OVER_CENTRE.match(n)
        if given and not routing.urgent:  # the centre's 时限 applies again
            month, day, hour, minute = map(int, given.groups())
            year = received.year + (1 if month < received.month else 0)
            deadline = utc(dt.datetime(year, month, day, hour, minute, tzinfo=received.tzinfo))
            notes.append(CENTRE_NOTE)
        elif n not in stale:
            notes.append(n)
    notes += [n for n in (*routing.reasons, routing.calendar_note) if n and n not in notes]
    return deadline, notes


def _received(entry: dict, taxonomy) -> dt.datetime:
    """When an entry came in, in the community's time (now when it has no 受理时间)."""
    when = dt.datetime.fromisoformat(entry["received_at"]) if entry.get("received_at") else _now()
    return community_time(when, taxonomy)


def _typed_time(text: str, what: str, taxonomy, after: dt.datetime | None = None) -> tuple[dt.datetime, bool]:
    """A time as staff type it (2026-11-22 16:00, 11月22日, 11-22 16:00), in the community's zone, and
    whether it gave a time of day (a date alone is the end of that working day, `day_end`).

    A day without its year is the latest one up to today, or, for a time that must come `after` a given
    one (a deadline after the receipt), the first such day on or after it."""
    from triage.tagging import read_time

    typed = text.strip()
    now = community_time(_now(), taxonomy)
    # "昨天下午", "前天 16:00", "今天": the day said as staff say it
    days_back = {"今天": 0, "昨天": 1, "前天": 2}
    if m := re.match(r"^(今天|昨天|前天)", typed):
        day = now - dt.timedelta(days=days_back[m.group(1)])
        part = re.match(r"^\s*(上午|早上|中午|下午|晚上)?\s*$", typed[m.end():])
        if part:  # a part of the day alone stands for its usual hour
            hour = {"上午": 9, "早上": 8, "中午": 12, "下午": 15, "晚上": 19}.get(part.group(1) or "", None)
            typed = f"{day:%Y-%m-%d}" + (f" {hour:02d}:00" if hour is not None else "")
        else:
            typed = f"{day:%Y-%m-%d}{typed[m.end():]}"
    # "11-22", "11-22 16:00": month and day with a dash, as on the page's own hints
    typed = re.sub(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})(?![\d-])", r"\1月\2日", typed)
    clock = bool(re.search(r"\d\s*[:：]\s*\d|\d\s*[点时時]", typed))
    when, ok = read_time(typed, now)
    if not ok or not typed:
        raise HTTPException(400, f"{what}“{text.strip()[:20]}”无法识别，请写成 2026-11-22 16:00、11月22日 或 11-22 16:00。")
    when = community_time(when, taxonomy)
    if after is not None and when.date() < after.date() and not re.search(r"\d{4}", typed):
        when = when.replace(year=when.year + 1)  # "1月5日" typed in December for a deadline
    if not clock:
        when = when.replace(hour=taxonomy.day_end.hour, minute=taxonomy.day_end.minute)
    return when, clock


@router.post("/entries/{entry_id}/merge", response_model=EntryOut)
def merge_entry(entry_id: EntryId, body: MergeIn, request: Request, model: ModelDep, store: StoreDep, caller: Staff,
                _: InScope) -> dict:
    """并入: this entry is the same problem as entry `into` (e.g. a 疑似重复 checked by a person).

    `into` records it as a repeat (its words, ticket number, caller); this entry becomes 已作废 with a note.
    Returns `into`.
    """
    _check_scope(store.get_entry(body.into), request, caller)  # the entry it goes into is handled too
    merged = store.merge_entry(entry_id, body.into, caller.name, body.seen, model.taxonomy.timezone)
    return view(merged, model.taxonomy.timezone)


@router.post("/entries/{entry_id}/split", response_model=list[EntryOut], status_code=201)
def split_entry(entry_id: EntryId, body: SplitIn, request: Request, model: ModelDep, store: StoreDep,
                caller: Staff, _: InScope) -> list[dict]:
    """拆分: words of this entry that are another problem become an entry of their own.

    `text` is copied from the entry's words (within one resident's quote). The new entry is classified and
    routed on those words, from the same receipt time, and starts at 待派单; this entry keeps the rest, and
    is re-classified on it unless a person set its category or it was dispatched already. Answers
    [this entry, the new one].
    """
    entry = store.get_entry(entry_id)
    left, quotes = split_words(entry, body.text)  # StoreError → 400 with the reason
    part = body.text.strip()
    received = _received(entry, model.taxonomy)
    memory = request.app.state.memory.get(model)
    moved_result, kept_result = model.classify_many([part, left], received, memory)
    moved = {**entry_from_result(moved_result, received, entry.get("source") or "classify"),
             "summary": summarize(part), "location": "、".join(find_places(part)[:2]) or entry.get("location"),
             "notes": [f"由编号 {entry_id} 拆分而来"]}
    kept: dict = {"text": left, "quotes": quotes}
    if entry.get("summary") and entry["summary"].rstrip("…") not in left:
        kept["summary"] = summarize(quotes[0] if quotes else left)  # it summed up the words that moved
    if places := find_places(left):
        kept["location"] = "、".join(places[:2])
    by_hand = entry.get("corrected") or any(h["field"] in ("urgent", "deadline") for h in store.history(entry_id))
    if (not by_hand and entry["status"] == "待派单"
            and (kept_result.category, kept_result.urgent) != (entry["category"], entry["urgent"])):
        # still as the model filed it: what is left is filed anew (the lamp without the trapped lift is not urgent)
        # the routing notes are the new filing's ("电梯困人：紧急" went with the lift); other notes stay
        rules = {r.note for c in model.taxonomy.categories for r in c.rules} | {p.note for p in model.taxonomy.precedence}
        kept.update(category=kept_result.category, category_name=kept_result.category_name,
                    secondary=kept_result.secondary, owner=kept_result.owner, co_owners=kept_result.co_owners,
                    urgent=kept_result.urgent, deadline=_refiled_deadline(entry, kept_result.deadline),
                    confidence=kept_result.confidence,
                    notes=[*kept_result.notes, *(n for n in entry.get("notes") or []
                                                 if not any(n.startswith(r) for r in rules if r) and n not in kept_result.notes)])
    this, new = store.split_entry(entry_id, part, moved, kept, caller.name, body.seen)
    tz = model.taxonomy.timezone
    return [view(this, tz), view(new, tz)]


@router.post("/entries/{entry_id}/correct", response_model=EntryOut)
def correct_entry(entry_id: EntryId, body: CorrectionIn, request: Request, model: ModelDep, store: StoreDep,
                  caller: Staff, _: InScope) -> dict:
    """Change the category (and optionally owner): re-routes the entry and stores a training example."""
    try:
        cat = model.taxonomy.resolve(body.category)
    except KeyError as e:
        raise HTTPException(400, str(e.args[0])) from None
    entry = store.get_entry(entry_id)
    received = _received(entry, model.taxonomy)
    routing = route(cat, normalize(entry["text"]), received, model.taxonomy)
    # the same category confirmed: an owner someone set by hand stays (a user trial lost a handover this way)
    kept = entry.get("owner") if cat.code == entry["category"] and entry.get("owner") else routing.owner
    owner = known_owner(body.owner, model.taxonomy) if body.owner else kept
    co_owners = [c for c in routing.co_owners if c != owner]
    deadline, notes = _refiled_notes(entry, routing, received, model.taxonomy)
    updated = store.correct(entry_id, cat.code, cat.name, owner, co_owners, deadline,
                            routing.urgent, caller.name, body.seen, body.note or "", notes=notes)
    request.app.state.memory.invalidate()  # repeats of this message take the new category from the next request
    return view(updated, model.taxonomy.timezone)


@router.get("/stats")
def stats(model: ModelDep, store: StoreDep, caller: Viewer, filters: Annotated[Filters, Depends()]) -> dict:
    """Counts by category, owner, status and week; overdue; satisfaction; share corrected.

    Takes the ledger's filters, e.g. `owner=物业服务企业` for one owner's figures.
    """
    db = store.db
    now = _now()
    chosen, params = filters.clause or "1", filters.params
    live = f"status != '已作废' AND {chosen}"  # voided rows (duplicates, mistakes) count only under by_status

    def count(column: str, where: str = live) -> dict:
        return {r["k"] or "": r["n"] for r in db.query(
            f"SELECT {column} AS k, count(*) AS n FROM entries WHERE {where} GROUP BY k ORDER BY n DESC", params)}

    total = next(db.query(f"SELECT count(*) AS n FROM entries WHERE {live}", params))["n"]
    repeats = repeat_calls(db, filters)
    corrected = next(db.query(f"SELECT count(*) AS n FROM entries WHERE corrected = 1 AND {live}", params))["n"]
    sat = next(db.query(f"SELECT avg(satisfaction) AS a, count(satisfaction) AS n FROM entries WHERE {live}", params))
    tz = ZoneInfo(model.taxonomy.timezone)

    def week(stamp: str) -> str:  # ISO week in local time: 2026-11-25 is 2026-W48
        year, number, _ = dt.datetime.fromisoformat(stamp).astimezone(tz).isocalendar()
        return f"{year}-W{number:02d}"

    weeks = Counter(week(r["received_at"]) for r in db.query(
        f"SELECT received_at FROM entries WHERE received_at IS NOT NULL AND {live}", params))
    scores: dict[str, list[int]] = {}
    # the week of the 回访 itself (an old ledger's, on its own date), not of the entry's last change
    visited = ("COALESCE((SELECT max(h.at) FROM history h WHERE h.entry_id = entries.id AND h.field = 'status' "
               "AND h.to_value = '已回访'), updated)")
    for r in db.query(f"SELECT {visited} AS at, satisfaction FROM entries WHERE satisfaction IS NOT NULL AND {live}",
                      params):
        scores.setdefault(week(r["at"]), []).append(r["satisfaction"])
    weeks = dict(sorted(weeks.items()))
    sat_weeks = {k: round(sum(v) / len(v), 2) for k, v in sorted(scores.items())}
    this_week = week(now.isoformat())
    overdue = {"yellow": 0, "red": 0}
    for r in db.query(f"SELECT status, deadline, received_at FROM entries WHERE deadline IS NOT NULL "
                      f"AND status NOT IN ({','.join('?' * len(CLOSED))}) AND {chosen}", [*CLOSED, *params]):
        level = overdue_level(r, now)
        if level:
            overdue[level] += 1
    names = {c.code: c.name for c in model.taxonomy.categories}
    return {
        "total": total,
        # who entered and who closed (the token's name in the 办理记录): a 书记 supervising her grid workers
        "by_person": _by_person(db, live, params, now),
        # repeat calls and meetings joined to these entries: total + repeat_calls is how often they were raised
        "repeat_calls": repeats,
        "by_category": {names.get(k, k): v for k, v in count("category").items()},
        "by_owner": count("owner"),
        # 所属社区 from the tickets (a 街道 desk's export covers several); entries without one are left out
        "by_community": {k: v for k, v in count("community").items() if k},
        "by_status": count("status", chosen),
        "by_week": weeks,
        "this_week": {"week": this_week, "received": weeks.get(this_week, 0)},
        "overdue": overdue,
        "satisfaction": {"average": round(sat["a"], 2) if sat["a"] is not None else None, "count": sat["n"],
                         "by_week": sat_weeks},
        "corrected_share": round(corrected / total, 4) if total else 0.0,
        "rates": _rates(db, live, params, total),
    }


def _by_person(db, live: str, params: list, now: dt.datetime) -> dict:
    """{name: {entered, closed, overdue}}: entries each person entered, closed (办结), and of those they entered,
    how many are still open past their deadline."""
    chosen = f"h.entry_id IN (SELECT id FROM entries WHERE {live})"
    out: dict[str, dict] = defaultdict(lambda: {"entered": 0, "closed": 0, "overdue": 0})
    for r in db.query(f"SELECT h.who AS who, e.status AS status, e.deadline AS deadline, e.received_at AS received_at "
                      f"FROM history h JOIN entries e ON e.id = h.entry_id WHERE h.field = 'status' "
                      f"AND h.from_value IS NULL AND {chosen}", params):
        mine = out[r["who"] or ""]
        mine["entered"] += 1
        mine["overdue"] += r["status"] not in CLOSED and overdue_level(r, now) == "red"
    # a closing an old ledger records (按原台账…) was done by someone else, months ago: not the importer's
    for r in db.query(f"SELECT h.who AS who, count(DISTINCT h.entry_id) AS n FROM history h WHERE h.field = 'status' "
                      f"AND h.to_value = '已办结' AND COALESCE(h.note, '') NOT LIKE '按原台账%' "
                      f"AND COALESCE(h.note, '') NOT LIKE '按更新后的原台账%' AND {chosen} GROUP BY h.who", params):
        out[r["who"] or ""]["closed"] = r["n"]
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["entered"] - kv[1]["closed"], kv[0])))


def repeat_calls(db, filters: Filters) -> int:
    """Repeat calls and meetings that came in within the filters' dates, about entries the other filters select."""
    when = "COALESCE(received_at, day)"  # rows from before schema 7 know only the day
    period = [f"{when} >= ?"] * bool(filters.start) + [f"{when} <= ?"] * bool(filters.end)
    where = " AND ".join([f"entry_id IN (SELECT id FROM entries WHERE status != '已作废' AND {filters.undated or '1'})",
                          *period])
    return next(db.query(f"SELECT count(*) AS n FROM repeats WHERE {where}",
                         [*filters.undated_params, *(x for x in (filters.start, filters.end) if x)]))["n"]


def _rates(db, live: str, params: list, total: int) -> dict:
    """The shares a monthly report asks for: 办结率, 按时办结率 (of those closed), 满意率 (4–5 of 5)."""
    closed = list(db.query(
        f"SELECT entries.deadline AS deadline, max(h.at) AS at FROM entries LEFT JOIN history h ON h.entry_id = entries.id "
        f"AND h.field = 'status' AND h.to_value = '已办结' WHERE entries.status IN ({','.join('?' * len(DONE))}) "
        f"AND {live} GROUP BY entries.id", [*DONE, *params]))
    # 按时 only where the 办结 time is known (an old ledger imported without its 办结日期 is not)
    dated = [r for r in closed if r["at"]]
    on_time = sum(1 for r in dated if not r["deadline"] or r["at"] <= r["deadline"])
    # every visit's last score counts, also one that sent the entry back (an unhappy resident is not left out)
    visits = next(db.query(f"SELECT count(satisfaction) AS n, sum(satisfaction >= 4) AS good FROM entries "
                           f"WHERE {live}", params))
    share = lambda part, whole: round(part / whole, 4) if whole else None
    return {"closed": share(len(closed), total), "closed_count": len(closed),
            "on_time": share(on_time, len(dated)), "satisfied": share(visits["good"] or 0, visits["n"]),
            "visited": visits["n"]}


@router.get("/ledger.xlsx", response_class=Response)
def export_ledger(model: ModelDep, store: StoreDep, caller: Viewer, filters: Annotated[Filters, Depends()]) -> Response:
    """The ledger as an Excel 问题台账: every entry, or those the filters select (as on the page)."""
    from .export import ledger_xlsx

    rows = [store.decode(r) for r in store.db.query(f"SELECT * FROM entries{filters.where} ORDER BY id",
                                                    filters.params)]
    history: dict[int, list[dict]] = {}
    for h in store.db.query(f"SELECT h.* FROM history h JOIN entries ON entries.id = h.entry_id{filters.where} "
                            "ORDER BY h.id", filters.params):
        history.setdefault(h["entry_id"], []).append(h)
    tz = model.taxonomy.timezone
    data = ledger_xlsx(rows, history, tz, filters.now, "，".join(filters.parts), repeat_calls(store.db, filters),
                       voided_shown=filters.status in (None, "已作废"))
    stamp = filters.now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
    name = "-".join(x for x in ("问题台账", filters.label, stamp) if x).replace("/", "、")
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=ledger-{stamp}.xlsx; "
                                                    f"filename*=UTF-8''{quote(name)}.xlsx"})
