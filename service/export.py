"""The ledger as an Excel workbook (问题台账), from stored entries."""

from __future__ import annotations

import io

from triage.ledger import write_xlsx

from .convert import local

__all__ = ["LEDGER_HEADER", "ledger_xlsx"]

LEDGER_HEADER = ("序号", "台账编号", "问题内容", "类别", "责任主体", "办理时限", "紧急程度", "地点", "提出人", "原话",
                 "办理情况", "状态", "满意度", "受理时间")
WIDTHS = (6, 9, 36, 12, 26, 18, 9, 14, 12, 48, 30, 9, 8, 18)


def _minutes(value: str | None, tz: str) -> str:
    shown = local(value, tz)
    return shown[:16].replace("T", " ") if shown else ""


def ledger_xlsx(entries: list[dict], tz: str) -> bytes:
    """Bytes of an .xlsx with one row per entry; opens cleanly in Excel and WPS."""
    rows = []
    for n, e in enumerate(entries, 1):
        rows.append((
            n, e["id"], e.get("summary") or e["text"][:60], e.get("category_name") or e["category"],
            "、".join(x for x in [e.get("owner"), *e.get("co_owners", [])] if x),
            _minutes(e.get("deadline"), tz) or "—", "紧急" if e.get("urgent") else "一般",
            e.get("location") or "", "、".join(e.get("speakers") or []),
            "\n".join(f"“{q}”" for q in e.get("quotes") or []), e.get("response") or "", e["status"],
            e.get("satisfaction") or "", _minutes(e.get("received_at"), tz)))
    buf = io.BytesIO()
    write_xlsx(LEDGER_HEADER, rows, buf, WIDTHS)
    return buf.getvalue()
