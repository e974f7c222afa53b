"""Batch tagging of ticket tables: every input row plus the triage fields."""

from __future__ import annotations

import datetime as dt
from typing import Callable, Sequence

from .model import Model

__all__ = ["TAG_FIELDS", "TIME_COLUMNS", "find_time_column", "parse_time", "tag_rows"]

# Column names 12345 exports use for when a ticket was received.
TIME_COLUMNS = ("received_at", "受理时间", "来电时间", "反映时间", "留言时间", "登记时间", "创建时间", "派单时间",
                "提交时间", "时间", "日期")


def find_time_column(header) -> str | None:
    """The received-time column of a ticket table, if it has one."""
    return next((name for name in TIME_COLUMNS if name in header), None)

TAG_FIELDS = ("category", "category_name", "secondary", "confidence", "needs_review", "urgent",
              "owner", "co_owners", "deadline", "explanation")


def parse_time(value, default: dt.datetime) -> dt.datetime:
    """A received-at cell (ISO text, Excel datetime or date) or `default` when blank/unreadable."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(9, 0))
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("/", "-")
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return default
    return default


def tag_rows(model: Model, rows: Sequence[dict], text_column: str, now: dt.datetime,
             received_column: str | None = "received_at", chunk: int = 256,
             progress: Callable[[int], None] | None = None) -> list[dict]:
    """Classify each row's text; blank texts are kept and marked for review, never dropped."""
    out: list[dict] = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        texts = [str(r.get(text_column) or "") for r in part]
        times = [parse_time(r.get(received_column), now) if received_column else now for r in part]
        for row, text, result in zip(part, texts, model.classify_many(texts, times)):
            tagged = dict(row)
            d = result.to_dict()
            for key in TAG_FIELDS:
                tagged[key] = d[key]
            if not text.strip():
                tagged["needs_review"] = True
                tagged["explanation"] = "文本为空"
            out.append(tagged)
        if progress:
            progress(len(part))
    return out
