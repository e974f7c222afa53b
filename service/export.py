"""The ledger as an Excel workbook (问题台账), from stored entries and their history."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

from triage.ledger import write_xlsx

from .convert import local, overdue_level
from .settings import FIELD_NAMES
from .store import DONE, SOURCE_NAMES, STATUSES

__all__ = ["LEDGER_HEADER", "ledger_xlsx"]

# (heading, column width): the columns a 问题台账 keeps, from 收集 to 销号
COLUMNS = (("序号", 6), ("台账编号", 9), ("工单编号", 16), ("问题内容", 36), ("类别", 12), ("责任主体", 16),
           ("协办单位", 22), ("受理时间", 17), ("办理时限", 17), ("紧急程度", 9), ("逾期", 10), ("社区", 12), ("地点", 14),
           ("提出人/来电人", 14),
           ("原话", 48), ("办理情况", 30), ("办理记录", 48), ("状态", 9), ("办结时间", 17), ("回访满意度", 10),
           ("回访意见", 30), ("销号时间", 17), ("需人工复核", 10), ("备注", 30))
LEDGER_HEADER = tuple(c for c, _ in COLUMNS)
# the columns a meeting reads, on a sheet of their own that prints legibly on landscape A4 (all 24 at once
# print at about a third of their size)
PRINTED = (("序号", 5), ("台账编号", 7), ("社区", 10), ("问题内容", 42), ("类别", 9), ("责任主体", 14),
           ("受理时间", 17), ("办理时限", 17), ("状态", 8), ("办理情况", 26))  # a date-time needs 17, else ####
OVERDUE = {"red": "已逾期", "yellow": "将逾期", "": ""}


def _minutes(value: str | None, tz: str) -> str:
    shown = local(value, tz)
    return shown[:16].replace("T", " ") if shown else ""


def _when(value: str | None, tz: str) -> dt.datetime | str:
    """A real Excel date-time (local, to the minute) so the sheet sorts and filters by date; "" when absent."""
    if not value:
        return ""
    return dt.datetime.fromisoformat(local(value, tz)).replace(tzinfo=None, second=0, microsecond=0)


def _record(history: list[dict], tz: str) -> str:
    """Each change after 录入 as one line: "11-24 09:30 王网格员 已派单（转物业）"."""
    lines = []
    for h in history:
        if h["field"] == "status" and h["from_value"] is None:
            continue  # the 录入 line: 受理时间 says it
        value = _minutes(h["to_value"], tz) if h["field"] in ("deadline", "received_at") else h["to_value"]
        if h["field"] in ("repeat", "repeat_undone"):  # 重复来电：工单 GD…（来电人 …）, or taken back
            lines.append(f"{_minutes(h['at'], tz)} {h['note']}")
            continue
        what = h["to_value"] if h["field"] == "status" else f"{FIELD_NAMES.get(h['field'], h['field'])}改为 {value or '（空）'}"
        note = f"（{h['note']}）" if h.get("note") and h["note"] != h["to_value"] else ""  # 办结 note = 办理情况
        lines.append(f"{_minutes(h['at'], tz)} {h['who'] or ''} {what}{note}".strip())
    return "\n".join(lines)




def _last(history: list[dict], status: str) -> str | None:
    return next((h["at"] for h in reversed(history) if h["field"] == "status" and h["to_value"] == status), None)


def _said(entry: dict) -> str:
    """原话, unless it only repeats 问题内容 (a 12345 ticket's one quote is its text)."""
    quotes = entry.get("quotes") or []
    if len(quotes) == 1 and quotes[0].strip() == _problem(entry).strip():
        return ""
    return "\n".join(f"“{q}”" for q in quotes)


def _problem(entry: dict) -> str:
    """问题内容: the whole text when the summary only cuts it short (a printed 台账 has no broken sentences)."""
    summary, text = entry.get("summary") or "", entry["text"]
    return text if not summary or (text.startswith(summary.rstrip("…")) and len(text) <= 300) else summary


def _late(entry: dict, closed: str | None, now: dt.datetime) -> str:
    """已逾期 / 将逾期 while open; 超期办结 when it was closed after its deadline."""
    if entry["status"] in DONE and closed and entry.get("deadline"):
        return "超期办结" if dt.datetime.fromisoformat(closed) > dt.datetime.fromisoformat(entry["deadline"]) else ""
    return OVERDUE[overdue_level(entry, now)]


def _mean_days(closed: list[dict], closed_at: dict[int, str]) -> float | str:
    spans = [(dt.datetime.fromisoformat(closed_at[e["id"]]) - dt.datetime.fromisoformat(e["received_at"]))
             .total_seconds() / 86400 for e in closed if e.get("received_at")]
    return round(sum(spans) / len(spans), 1) if spans else "—"


def _summary(entries: list[dict], history: dict[int, list[dict]], now: dt.datetime, scope: str,
             tz: str, repeat_calls: int, voided_shown: bool = True) -> list[list]:
    """The 汇总 sheet a monthly report is built from: rates, category × status, one line per owner (and 社区)."""
    live = [e for e in entries if e["status"] != "已作废"]
    closed = [e for e in live if e["status"] in DONE]
    closed_at = {e["id"]: _last(history.get(e["id"], []), "已办结") for e in closed}
    dated = [e for e in closed if closed_at[e["id"]]]  # an undated import is not 按时 or late
    late = [e for e in dated if _late(e, closed_at[e["id"]], now)]
    visited = [e for e in live if e.get("satisfaction")]
    share = lambda part, whole: part / whole if whole else "—"  # a real number, shown as 0.0 % (write_xlsx)
    statuses = tuple(st for st in STATUSES if st != "已作废")
    lines: list[list] = [
        ["统计范围：", scope or "全部台账（未筛选）"],
        ["导出时间：", _when(now.isoformat(), tz)],
        ["受理（不含已作废）", len(live)],
        # the calls and meetings in the period that raised an open problem again (a new 工单编号, another day)
        ["重复来电/再次反映（本期，并入已有条目）", repeat_calls],
        ["办结（已办结/已回访/已销号）", len(closed)], ["办结率", share(len(closed), len(live))],
        ["按时办结率（办结中）", share(len(dated) - len(late), len(dated))],
        ["回访", len(visited)],
        ["满意率（4–5 分）", share(sum(e["satisfaction"] >= 4 for e in visited), len(visited))],
        ["仍逾期（未办结且过时限）", sum(overdue_level(e, now) == "red" for e in live)],
        # under a status filter (the default 不含已作废) the voided are not in the rows: 0 would be a false count
        ["已作废", len(entries) - len(live) if voided_shown else "—（本表按状态筛选，未计入）"],
        ["紧急件", sum(bool(e.get("urgent")) for e in live)],
        # from 受理 to 办结, in days, over those whose 办结 time is known
        ["平均办理天数（办结）", _mean_days(dated, closed_at)],
        *([f"来源：{SOURCE_NAMES.get(src, src or '其他')}", n] for src, n in
          sorted(Counter(e.get("source") or "" for e in live).items(), key=lambda kv: -kv[1])),
        [],
        ["类别", *statuses, "合计"],
    ]
    for name in sorted({e.get("category_name") or e["category"] for e in live}):
        mine = [e for e in live if (e.get("category_name") or e["category"]) == name]
        lines.append([name, *(sum(e["status"] == st for e in mine) for st in statuses), len(mine)])
    lines.append(["合计", *(sum(e["status"] == st for e in live) for st in statuses), len(live)])
    # one line per owner, and per 社区 when the tickets named theirs (a 街道 desk reports by community)
    for field, heading, first in (("owner", "责任主体", "牵头"), ("community", "社区", "受理")):
        values = sorted({e.get(field) or "" for e in live})
        if field == "community" and not any(values):
            continue
        lines += [[], [heading, first, "办结", "办结率", "仍逾期", "回访", "满意率"]]
        for value in values:
            mine = [e for e in live if (e.get(field) or "") == value]
            done = [e for e in mine if e["status"] in DONE]
            seen = [e for e in mine if e.get("satisfaction")]
            lines.append([value or "（未定）", len(mine), len(done), share(len(done), len(mine)),
                          sum(overdue_level(e, now) == "red" for e in mine), len(seen),
                          share(sum(e["satisfaction"] >= 4 for e in seen), len(seen))])
    return lines


def ledger_xlsx(entries: list[dict], history: dict[int, list[dict]], tz: str, now: dt.datetime,
                scope: str, repeat_calls: int, voided_shown: bool = True) -> bytes:
    """Bytes of an .xlsx with one row per entry and a 汇总 sheet; opens cleanly in Excel and WPS.

    `repeat_calls` is counted by the caller over the filters' period (`routes_ledger.repeat_calls`).
    """
    rows = []
    for n, e in enumerate(entries, 1):
        past = history.get(e["id"], [])
        # only the changes a person made; category re-routing repeats itself in several fields
        shown = sorted((h for h in past if h["field"] in ("status", "owner", "response", "location", "category_name",
                                                          "repeat", "repeat_undone")),
                       key=lambda h: h["at"])  # an old ledger's 办结 is dated before the import: in time order
        # 办结/销号 times only while the entry is in that state: a reopened entry is not done
        closed = _last(past, "已办结") if e["status"] in DONE else None
        rows.append((
            n, e["id"], e.get("ref") or "", _problem(e), e.get("category_name") or e["category"],
            e.get("owner") or "", "、".join(e.get("co_owners") or []),
            _when(e.get("received_at"), tz), _when(e.get("deadline"), tz) or "—",
            "紧急" if e.get("urgent") else "一般", _late(e, closed, now), e.get("community") or "", e.get("location") or "",
            "、".join(x for x in [*(e.get("speakers") or []), e.get("contact")] if x),
            _said(e), e.get("response") or "", _record(shown, tz),
            # the last 回访, also one whose low score sent the entry back (the statistics count it too)
            e["status"], _when(closed, tz), e.get("satisfaction") or "", e.get("feedback") or "",
            _when(_last(past, "已销号") if e["status"] == "已销号" else None, tz), "是" if e.get("needs_review") else "",
            # what the reading noted: a rule that set the owner, 疑似重复 with the entry it resembles, the centre's 时限
            "；".join(e.get("notes") or [])))
    buf = io.BytesIO()
    heading = f"问题台账（{scope}）" if scope else "问题台账"
    at = {name: i for i, name in enumerate(LEDGER_HEADER)}
    printed = [[row[at[name]] for name, _ in PRINTED] for row in rows]
    write_xlsx(LEDGER_HEADER, rows, buf, [w for _, w in COLUMNS], filters=True, heading=heading,
               tables=[("打印版", [name for name, _ in PRINTED], printed, [w for _, w in PRINTED])],
               extra=[("汇总", _summary(entries, history, now, scope, tz, repeat_calls, voided_shown))])
    return buf.getvalue()
