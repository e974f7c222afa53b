"""Batch tagging of ticket tables: every input row plus the triage fields."""

from __future__ import annotations

import datetime as dt
import numbers
import re
import unicodedata
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from .model import Model

__all__ = ["CENTRE_GIVEN", "CENTRE_NOTE", "DEADLINE_COLUMNS", "TAG_FIELDS", "TAG_FIELDS_ZH", "TIME_COLUMNS", "URGENT_OVER_CENTRE",
           "centre_deadline", "find_deadline_column",
           "find_time_column",
           "for_people", "given_deadline", "parse_time", "read_time", "tag_rows"]

# Column names 12345 exports use for when a ticket was received, most specific first:
# the bare "时间"/"日期" only count when nothing better is there.
TIME_COLUMNS = ("received_at", "受理时间", "受理日期", "来电时间", "来电日期", "反映时间", "反映日期", "留言时间",
                "报修时间", "报修日期", "报事时间", "上报时间",
                "登记时间", "登记日期", "工单创建时间", "创建时间", "派单时间", "派发时间", "提交时间", "时间", "日期")

# Columns in which a hotline centre's export gives its own deadline for the ticket. Our own tagged
# file calls its deadline 办理时限 too: tagging that file again keeps the same value.
DEADLINE_COLUMNS = ("办结时限", "办理时限", "处理时限", "承办时限", "办理期限", "办结期限", "回复时限", "截止时间")

TAG_FIELDS = ("category", "category_name", "secondary", "confidence", "needs_review", "urgent",
              "owner", "co_owners", "deadline", "explanation", "notes")


def _squeeze(name) -> str:
    # Excel users break long headers with Alt+Enter ("受理\n时间") or pad them with spaces.
    return re.sub(r"\s+", "", name) if isinstance(name, str) else ""


def find_time_column(header, names: Sequence[str] = TIME_COLUMNS) -> str | None:
    """The received-time column of a ticket table, if it has one, as the header spells it."""
    cells = list(header)
    for name in names:
        if name in cells:
            return name
        found = next((cell for cell in cells if _squeeze(cell) == name), None)
        if found is not None:
            return found
    return None


def find_deadline_column(header) -> str | None:
    """The column with the hotline centre's own deadline (办结时限), if the table has one."""
    return find_time_column(header, DEADLINE_COLUMNS)


# Excel stores days since 1899-12-30 (the date that makes its 1900 leap-year bug come out right).
# Only this range (1982–2119) is taken as a serial, so ticket numbers or phone numbers are not.
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_SERIAL_RANGE = (30000, 80000)

# Everything below runs after NFKC, which turns full-width digits, "／", "：" and the ideographic
# space into their ASCII forms.
_AM, _PM, _NOON = ("上午", "早上", "凌晨", "AM"), ("下午", "晚上", "PM"), ("中午",)
_DATE_TIME = re.compile(r"""
    (?P<y>\d{4}) \s* [-/.年] \s* (?P<m>\d{1,2}) \s* [-/.月] \s* (?P<d>\d{1,2}) \s* 日?
    (?: (?:\s*|T) (?P<half>上午|早上|凌晨|中午|下午|晚上|AM|PM)? \s*
        (?P<H>\d{1,2}) \s*
        (?: [:时点] \s* (?P<M>\d{1,2}) \s*
            (?: : \s* (?P<S>\d{1,2}(?:\.\d+)?)          # 09:15:30(.5)
              | 分 (?: \s* (?P<S2>\d{1,2}) \s* 秒)? )?    # 02时31分(5秒)
          | [时点] )                                     # 9点
        \s* (?P<half2>上午|早上|凌晨|中午|下午|晚上|AM|PM)?
    )?
    \s* (?P<tz>Z|[+-]\d{2}:?\d{2})?
""", re.VERBOSE | re.IGNORECASE)
# A date without its year, as offices type it: "5月8日", "5月8号 下午3点", "11/3 14:05", "5.12"
_NO_YEAR = re.compile(r"""
    (?P<m>\d{1,2}) \s* (?:月|/|\.) \s* (?P<d>\d{1,2}) \s* (?:日|号)?
    (?: (?:\s*) (?P<half>上午|早上|凌晨|中午|下午|晚上)? \s*
        (?: (?P<H>\d{1,2}) \s* (?: [:时点] \s* (?P<M>\d{1,2})? \s* 分? )? )?
    )?
""", re.VERBOSE)
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")


def _from_serial(days: float) -> dt.datetime | None:
    if not _SERIAL_RANGE[0] <= days <= _SERIAL_RANGE[1]:
        return None
    if float(days).is_integer():  # a date cell without a time: the start of the working day, as for a date
        return _EXCEL_EPOCH + dt.timedelta(days=days, hours=9)
    # Whole seconds: the float's last digits are noise (46328.395 is 09:28:47.99999…).
    return _EXCEL_EPOCH + dt.timedelta(seconds=round(days * 86400))


def _hour(hour: int, half: str) -> int:
    half = half.upper()
    if half in _PM and hour < 12 or half in _NOON and hour < 11:
        return hour + 12
    if half in _AM and hour == 12:
        return 0
    return hour


def _zone(text: str) -> dt.tzinfo:
    if text.upper() == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _from_parts(match: re.Match) -> dt.datetime:
    parts = match.groupdict()
    seconds = float(parts.get("S") or parts.get("S2") or 0)
    half = parts.get("half") or parts.get("half2") or ""
    when = dt.datetime(int(parts["y"]), int(parts["m"]), int(parts["d"]))
    if parts["H"] is None:
        return when.replace(hour=9)  # a date alone means the start of the working day, as for a date cell
    when = when.replace(hour=_hour(int(parts["H"]), half), minute=int(parts["M"] or 0), second=int(seconds),
                        microsecond=round(seconds % 1 * 1e6) % 1000000)
    return when.replace(tzinfo=_zone(parts["tz"])) if parts.get("tz") else when


def _read_text(text: str, now: dt.datetime | None = None) -> dt.datetime | None:
    text = unicodedata.normalize("NFKC", text).strip()
    text = re.sub(r"(\d)\s*号(?=\s|$|[上下早晚中凌]|\d)", r"\1日", text)  # 2026年5月12号
    half = re.search(r"(?<=[\d日])\s*(上午|早上|中午|下午|晚上)$", text)
    if half:  # "2026-5-12 上午": that half of the day, the hour not written
        text = text[:half.start()] + " " + {"上午": "9:00", "早上": "9:00", "中午": "12:00", "下午": "14:00"}.get(
            half.group(1), "19:00")
    try:
        if _SERIAL.fullmatch(text):
            return _from_serial(float(text))
        for pattern in (_COMPACT, _DATE_TIME):
            match = pattern.fullmatch(text)
            if match:
                return _from_parts(match)
        match = _NO_YEAR.fullmatch(text)
        if match and now is not None:
            return _without_year(match, now)
        return dt.datetime.fromisoformat(text)  # whatever else ISO 8601 allows
    except ValueError:  # 2026-02-30, 25:00 …
        return None


def _without_year(match: re.Match, now: dt.datetime) -> dt.datetime:
    """"5月8日" is the latest 5 May not after today (a ledger kept in November means this year's May;
    one typed in January, "12月28日", means last December)."""
    # a trailing 上午/下午 without an hour was made a clock time already (`_read_text`)
    if match.group("H") is None:
        hour, minute = 9, 0  # a date alone: the start of the working day
    else:
        hour, minute = _hour(int(match.group("H")), match.group("half") or ""), int(match.group("M") or 0)
    today = now.replace(tzinfo=None)
    when = dt.datetime(today.year, int(match.group("m")), int(match.group("d")), hour, minute)
    if when.date() > today.date():
        when = when.replace(year=today.year - 1)
    return when


def _is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(value != value)  # NaN / NaT: how pandas and Dask spell an empty cell
    except TypeError:  # pd.NA, whose truth is undefined, is pandas' other empty cell
        return True


# Times a ticket can have. Outside them a cell is a typing mistake (9999-12-31 as "no date", 0001-01-01),
# and is unreadable like a non-time: deadline arithmetic and time-zone conversion near year 1 or 9999
# overflow, and one such cell failed a whole upload.
_EARLIEST, _LATEST = dt.datetime(2000, 1, 1), dt.datetime(2101, 1, 1)


def read_time(value, default: dt.datetime) -> tuple[dt.datetime, bool]:
    """(time, True) for a readable or blank cell (blank → `default`); (`default`, False) for a non-time.

    A time before 2000 or after 2100 counts as a non-time.
    """
    if _is_blank(value):
        return default, True
    when = _any_time(value, default)
    if when is None or not _EARLIEST <= when.replace(tzinfo=None) < _LATEST:
        return default, False
    return when, True


def _any_time(value, now: dt.datetime) -> dt.datetime | None:
    """The time a cell holds, whatever its year; None for a non-time."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(9, 0))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        # zh-CN date formats such as yyyy"年"m"月"d"日" reach openpyxl as plain numbers
        number = float(value)
        when = _from_serial(number)
        if when is None and number.is_integer():
            when = _read_text(str(int(number)))  # 20261102211000 typed as a number
        return when
    if isinstance(value, str):
        return _read_text(value, now)
    return None


def parse_time(value, default: dt.datetime) -> dt.datetime:
    """A received-at cell (text in the usual Chinese forms, Excel datetime, date or serial), else `default`."""
    return read_time(value, default)[0]


def _unreadable_note(value) -> str:
    shown = str(value).strip()
    shown = shown if len(shown) <= 30 else shown[:30] + "…"
    return f"受理时间“{shown}”无法识别，已按当前时间计算期限"


# what a row's notes say when its 办理时限 is the hotline centre's own: it stands whatever the category
CENTRE_GIVEN = "热线中心给定"  # the note's words that say a 时限 came from the centre
CENTRE_NOTE = f"办理时限取自工单（{CENTRE_GIVEN}）"
# an urgent ticket answered before the centre's own 时限, as its note says it (written below, read back when a
# correction finds it not urgent after all): "紧急事项按 24 小时处置（热线中心时限 11-26 18:00）"
URGENT_OVER_CENTRE = re.compile(r"^紧急事项按 \d+ 小时处置（热线中心时限 (\d{2})-(\d{2}) (\d{2}):(\d{2})）$")


def centre_deadline(notes) -> bool:
    """Whether an entry's notes say its 办理时限 came from the hotline centre's ticket."""
    return any(CENTRE_GIVEN in n for n in notes or ())


def given_deadline(value, received: dt.datetime, day_end: dt.time,
                   received_known: bool = True) -> tuple[dt.datetime | None, str | None]:
    """The centre's own deadline from its export, and a note for the row.

    A date alone ends at `day_end`. A value before the call or more than 400 days after it is a typo,
    not a deadline: (None, a note saying so). Without the call's own time (`received_known` False,
    `received` is then today) only a value more than 400 days away is refused. A blank or non-time
    cell: (None, None).
    """
    if _is_blank(value):
        return None, None
    when = _any_time(value, dt.datetime.min)  # 9999-12-31 is read, to be called implausible below
    if when is None:
        return None, None
    if isinstance(value, str):
        clock = bool(re.search(r"\d\s*[:：]\s*\d|\d\s*[点時时]", value))
    elif isinstance(value, dt.datetime):
        clock = value.time() != dt.time(0, 0)
    else:  # a date, or an Excel serial number whose fraction is the time of day
        clock = isinstance(value, (int, float)) and float(value) % 1 != 0
    if not clock:
        when = dt.datetime.combine(when.date(), day_end, tzinfo=when.tzinfo)  # "2026-11-30": that whole day
    naive, start = when.replace(tzinfo=None), received.replace(tzinfo=None)
    earliest = start if received_known else start - dt.timedelta(days=400)
    if not earliest <= naive <= start + dt.timedelta(days=400):
        return None, f"工单的办理时限“{str(value).strip()[:20]}”不合理，已按分类规则计算"
    return when, CENTRE_NOTE


# "3个工作日", "三个工作日", "24小时", "7天": the centre's 时限 as a span from the call
_SPAN = re.compile(r"^\s*(?P<n>\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(?:(?P<unit>个?工作日|个?小时|个?自然日|天)\s*(?:内|之内)?"
                   r"|(?P<days>日)\s*(?:内|之内))\s*$")  # "15日" alone is the 15th, "15日内" a span


def _span_deadline(value, received: dt.datetime, taxonomy) -> tuple[dt.datetime | None, str | None]:
    """A 办理时限 cell written as a span ("三个工作日") counted from the call; (None, None) otherwise."""
    from .places import cn_number
    from .route import add_working_days

    m = _SPAN.match(value) if isinstance(value, str) else None
    n = cn_number(m.group("n")) if m else None
    if not n:
        return None, None
    unit = (m.group("unit") or "天").lstrip("个")
    if unit == "工作日":
        when = add_working_days(received, n, taxonomy)[0]
    elif unit == "小时":
        when = received + dt.timedelta(hours=n)
    else:  # calendar days, to the end of the last one
        when = dt.datetime.combine((received + dt.timedelta(days=n)).date(), taxonomy.day_end, tzinfo=received.tzinfo)
    return when, f"办理时限取自工单（{CENTRE_GIVEN}：{value.strip()}）"


def _later_than(when: dt.datetime, limit: dt.datetime) -> bool:
    # a time typed without a zone is read in the clock's zone (the community's)
    if (when.tzinfo is None) != (limit.tzinfo is None):
        when = when.replace(tzinfo=limit.tzinfo) if when.tzinfo is None else when.replace(tzinfo=None)
    return when > limit


def tag_rows(model: Model, rows: Sequence[dict], text_column: str, now: dt.datetime,
             received_column: str | None = "received_at", chunk: int = 256,
             progress: Callable[[int], None] | None = None, memory=None) -> list[dict]:
    """Classify each row's text; blank texts and unreadable times are kept and marked for review.

    `memory` (a `triage.memory.CorrectionMemory`) gives repeats of corrected messages their corrected category.
    When the table has the centre's own deadline (a DEADLINE_COLUMNS column), a plausible one replaces ours,
    so the tagged file says what the ledger will keep.
    """
    out: list[dict] = []
    zone = ZoneInfo(model.taxonomy.timezone)
    if now.tzinfo is not None:
        now = now.astimezone(zone)  # "11月25日" is the community's calendar day, not the server's
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        deadline_column = find_deadline_column(part[0].keys()) if part else None
        texts = [str(r.get(text_column) or "") for r in part]
        read = [read_time(r.get(received_column), now) if received_column else (now, True) for r in part]
        times = [when for when, _ in read]
        for row, text, (when, ok), result in zip(part, texts, read, model.classify_many(texts, times, memory)):
            tagged = dict(row)
            d = result.to_dict()
            for key in TAG_FIELDS:
                tagged[key] = d[key]
            # routing notes (a rule that fired, holiday data missing for that year) go with the row
            tagged["notes"] = "；".join(d["notes"])
            if deadline_column and ok:
                known = bool(received_column) and not _is_blank(row.get(received_column))
                given, note = _span_deadline(row.get(deadline_column), when, model.taxonomy)
                if given is None:
                    given, note = given_deadline(row.get(deadline_column), when, model.taxonomy.day_end, known)
                if given is None and note is None and not _is_blank(row.get(deadline_column)):
                    note = f"工单的办理时限“{str(row.get(deadline_column)).strip()[:20]}”无法识别，已按分类规则计算"
                if given is not None:
                    given = given if given.tzinfo else given.replace(tzinfo=zone)
                    ours = dt.datetime.fromisoformat(tagged["deadline"]) if tagged.get("deadline") else None
                    if tagged.get("urgent") and ours is not None and ours < given:
                        # a danger (gas, someone in a lift) is handled within 24 h, whatever the ticket allows
                        note = (f"紧急事项按 {model.taxonomy.urgent_hours} 小时处置"
                                f"（热线中心时限 {given.astimezone(zone):%m-%d %H:%M}）")
                    else:
                        tagged["deadline"] = given.isoformat()
                if note:
                    tagged["notes"] = f"{tagged['notes']}；{note}" if tagged["notes"] else note
            if ok and received_column and _later_than(when, now + dt.timedelta(days=1)):
                tagged["needs_review"] = True  # a receipt time in the future is a typing mistake
                future = f"受理时间 {when:%Y-%m-%d} 晚于今天，请核对"
                tagged["notes"] = f"{future}；{tagged['notes']}" if tagged["notes"] else future
            if not text.strip():
                tagged["needs_review"] = True
                tagged["explanation"] = "文本为空"
            if not ok:
                # A deadline counted from today instead of the ticket's own day must not pass unseen.
                tagged["needs_review"] = True
                # in 备注, which the ledger keeps as the entry's notes (判断依据 says why the category)
                note = _unreadable_note(row.get(received_column))
                tagged["notes"] = f"{note}；{tagged['notes']}" if tagged["notes"] else note
            out.append(tagged)
        if progress:
            progress(len(part))
    return out


# Column headings for people (the chat page's download): the same fields, in Chinese.
TAG_FIELDS_ZH = {"category_name": "类别", "category": "类别代码", "secondary": "可能还涉及", "urgent": "紧急",
                 "owner": "责任主体", "co_owners": "协办单位", "deadline": "办理时限", "confidence": "把握",
                 "needs_review": "需人工复核", "explanation": "判断依据", "notes": "备注"}


def for_people(tagged: Sequence[dict], header: Sequence[str], taxonomy) -> tuple[list[dict], list[str]]:
    """Tagged rows with Chinese headings and values staff read at a glance (是/否, 97%, local time).

    Input columns come first, unchanged; a heading that clashes with one of them gets “（分拣）”.
    """
    names = {field: (zh if zh not in header else f"{zh}（分拣）") for field, zh in TAG_FIELDS_ZH.items()}
    tz = ZoneInfo(taxonomy.timezone)
    out = []
    for row in tagged:
        person = {h: row.get(h) for h in header}
        for field, name in names.items():
            value = row.get(field)
            if field == "secondary":
                value = "、".join(taxonomy.get(c).name for c in value or () if c in taxonomy.codes)
            elif field in ("urgent", "needs_review"):
                value = "是" if value else "否"
            elif field == "confidence":
                value = f"{round(float(value or 0) * 100)}%"
            elif field == "co_owners":
                value = "、".join(value or ())
            elif field == "deadline" and value:
                moment = dt.datetime.fromisoformat(value)
                value = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            person[name] = "" if value is None else value
        out.append(person)
    return out, list(header) + list(names.values())
