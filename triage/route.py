"""Owner, urgency and deadline for a classified message: pure functions over the taxonomy.

Working days skip weekends and China's public holidays and count make-up working days
(调休), using ``chinesecalendar``. Years it does not cover yet fall back to weekends plus
the dates listed in the taxonomy's ``extra_holidays`` / ``extra_workdays``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from .taxonomy import Category, Taxonomy

__all__ = ["Routing", "add_working_days", "community_time", "is_workday", "route"]


@dataclass(frozen=True)
class Routing:
    """Who handles a message, how urgent it is, and by when."""

    category: str
    owner: str
    co_owners: tuple[str, ...]
    urgent: bool
    deadline: dt.datetime | None
    deadline_days: int
    reasons: tuple[str, ...] = ()
    calendar_note: str = ""


_FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


def is_workday(day: dt.date, taxonomy: Taxonomy | "_Calendar") -> tuple[bool, bool]:
    """(is it a working day, is the answer from the official holiday calendar)."""
    if day in taxonomy.extra_workdays:
        return True, True
    if day in taxonomy.extra_holidays:
        return False, True
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        # A year the calendar does not cover yet: the holidays fixed by date are known (元旦, 劳动节,
        # 国庆 under the 2025 rules); the lunar ones and the make-up working days are not.
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS, False


def add_working_days(start: dt.datetime, days: int, taxonomy: Taxonomy) -> tuple[dt.datetime, bool]:
    """The end of the `days`-th working day after `start`, and whether the calendar covered it."""
    day, official = _end_day(start.date(), days, taxonomy.extra_holidays, taxonomy.extra_workdays)
    return dt.datetime.combine(day, taxonomy.day_end, tzinfo=start.tzinfo), official


@lru_cache(maxsize=8192)
def _end_day(start: dt.date, days: int, holidays: frozenset, workdays: frozenset) -> tuple[dt.date, bool]:
    # Batches share receipt days: counting once per (day, rule) saves most of the calendar lookups.
    calendar = _Calendar(holidays, workdays)
    day, counted, official = start, 0, True
    while counted < days:
        day += dt.timedelta(days=1)
        work, known = is_workday(day, calendar)
        official &= known
        counted += work
    return day, official


@dataclass(frozen=True)
class _Calendar:
    extra_holidays: frozenset
    extra_workdays: frozenset


def community_time(when: dt.datetime, taxonomy: Taxonomy) -> dt.datetime:
    """The time in the community's zone; one typed without a zone is taken as already the community's."""
    tz = _zone(taxonomy.timezone)
    return when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def route(category: Category | str, text: str, received_at: dt.datetime, taxonomy: Taxonomy) -> Routing:
    """Apply the category's defaults, then its keyword rules, to find owner, urgency and deadline.

    `text` is the normalised message; the first rule that sets a field wins for that field.
    """
    cat = taxonomy.get(category) if isinstance(category, str) else category
    owner, co_owners = cat.owner, list(cat.co_owners)
    urgent, days = cat.urgent, cat.deadline_days
    owner_set = days_set = urgent_set = False
    reasons = []
    for rule in cat.rules:
        if not rule.matches(text):
            continue
        if rule.urgent is not None and urgent_set and rule.urgent != urgent:
            continue  # overruled: "只能把电瓶拎回家充" is no hazard, so the 入户充电 rule adds no 消防 either
        used = False  # a rule whose fields were all set by earlier rules is not named as a reason
        if rule.urgent is not None and not urgent_set:  # `urgent = false` lets an earlier rule say "not an outage"
            urgent, urgent_set, used = rule.urgent, True, True
        if rule.deadline_days is not None and not days_set:
            days, days_set, used = rule.deadline_days, True, True
        if rule.owner and not owner_set:
            owner, owner_set, used = rule.owner, True, True
            if rule.co_owners is not None:
                co_owners = list(rule.co_owners)
        added = [c for c in rule.add_co_owners if c not in co_owners]
        co_owners += added
        if used or added or not (rule.urgent is not None or rule.deadline_days is not None or rule.owner
                                 or rule.add_co_owners):
            reasons.append(rule.note or "/".join(rule.when_any[:3] or rule.when_all[0][:3]))
    co_owners = [c for c in co_owners if c != owner]
    received = community_time(received_at, taxonomy)
    note = ""
    if urgent:
        deadline = received + dt.timedelta(hours=taxonomy.urgent_hours)
    elif days:
        deadline, official = add_working_days(received, days, taxonomy)
        if not official:
            note = "该年度法定节假日数据暂缺，仅跳过周末（可在分类配置 extra_holidays 中补充）"
    else:
        deadline = None
    return Routing(
        category=cat.code,
        owner=owner,
        co_owners=tuple(co_owners),
        urgent=urgent,
        deadline=deadline,
        deadline_days=0 if urgent else days,
        reasons=tuple(reasons),
        calendar_note=note,
    )
