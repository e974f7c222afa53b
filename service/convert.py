"""Library results ↔ ledger rows, and time formatting at the edge."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from triage import Result
from triage.notes import Issue

from .store import CLOSED

__all__ = ["entry_from_issue", "entry_from_result", "local", "overdue_level", "utc"]


def utc(when: dt.datetime | None) -> str | None:
    """Stored form: UTC ISO 8601 (sorts and compares correctly in SQL)."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return when.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def received_between(start: dt.datetime | None, end: dt.datetime | None) -> tuple[list[str], list]:
    """SQL clauses and parameters for start ≤ received_at ≤ end.

    An end at midnight is a date given without a time (`date_to=2026-11-23`): the whole day counts.
    """
    clauses, params = [], []
    # 0001-01-01 or 9999-12-31 as a bound means "no bound"; converting them to UTC would overflow
    start = None if start and (start.year < 1900 or start.year > 2200) else start
    end = None if end and (end.year < 1900 or end.year > 2200) else end
    if start:
        clauses.append("received_at >= ?")
        params.append(utc(start))
    if end:
        if end.time() == dt.time(0, 0):
            clauses.append("received_at < ?")
            params.append(utc(end + dt.timedelta(days=1)))
        else:
            clauses.append("received_at <= ?")
            params.append(utc(end))
    return clauses, params


def local(value: str | None, tz: str) -> str | None:
    """Shown form: ISO 8601 in the community's timezone."""
    if not value:
        return None
    return dt.datetime.fromisoformat(value).astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def overdue_level(entry: dict, now: dt.datetime) -> str:
    """'' on time, 'yellow' past 80 % of the allowed time, 'red' past the deadline (open entries only)."""
    if entry.get("status") in CLOSED or not entry.get("deadline") or not entry.get("received_at"):
        return ""
    deadline = dt.datetime.fromisoformat(entry["deadline"])
    received = dt.datetime.fromisoformat(entry["received_at"])
    if now > deadline:
        return "red"
    span = (deadline - received).total_seconds()
    if span > 0 and (now - received).total_seconds() >= 0.8 * span:
        return "yellow"
    return ""


def entry_from_result(result: Result, received_at: dt.datetime, source: str) -> dict:
    """A ledger row for one classified message."""
    return {
        "text": result.text, "summary": result.text[:60], "category": result.category,
        "category_name": result.category_name, "secondary": result.secondary, "owner": result.owner,
        "co_owners": result.co_owners, "urgent": result.urgent, "deadline": utc(result.deadline),
        "received_at": utc(received_at), "confidence": result.confidence, "margin": result.margin,
        "needs_review": result.needs_review, "model_version": result.model_version, "source": source,
        "notes": result.notes, "quotes": [result.text], "speakers": [],
    }


def entry_from_issue(issue: Issue | dict, received_at: dt.datetime, model_version: str, source: str) -> dict:
    """A ledger row for one issue extracted from notes."""
    d = issue.to_dict() if isinstance(issue, Issue) else dict(issue)
    if d.get("received_at"):  # a walk log's line time: when that finding was made
        received_at = d["received_at"] if isinstance(d["received_at"], dt.datetime) else dt.datetime.fromisoformat(d["received_at"])
    deadline = d.get("deadline")
    if isinstance(deadline, str):
        deadline = dt.datetime.fromisoformat(deadline)
    return {
        "text": "\n".join(d.get("quotes") or [d.get("summary", "")]), "summary": d.get("summary"),
        "category": d["category"], "category_name": d.get("category_name"), "secondary": d.get("secondary", []),
        "owner": d.get("owner"), "co_owners": d.get("co_owners", []), "urgent": d.get("urgent", False),
        "deadline": utc(deadline), "received_at": utc(received_at), "location": d.get("location"),
        "speakers": d.get("speakers", []), "quotes": d.get("quotes", []), "response": d.get("response"),
        "confidence": d.get("confidence"), "needs_review": d.get("needs_review", False),
        "model_version": model_version, "source": source, "notes": d.get("notes", []),
        **({"ref": str(d["ref"])[:60]} if d.get("ref") else {}),
    }
