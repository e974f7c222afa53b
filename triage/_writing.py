"""Cell-level writing for `triage.tables.write_table`: CSV, JSONL and XLSX that open cleanly in Excel and WPS.

Nothing here words errors for people: `write_table` wraps what these raise into a TableError.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from typing import IO, Iterable, Sequence

__all__ = ["as_text", "excel_safe", "write_csv", "write_jsonl", "write_xlsx"]

def _cell(value):
    if isinstance(value, dict) or (isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list)) for v in value)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value))
    if value is None:
        return ""
    if not isinstance(value, (str, int, float, dt.date, dt.time)):
        return str(value)  # anything else (Decimal, numpy scalars, objects) as its text
    return value


def write_csv(rows: Iterable[dict], columns: Sequence[str], fh: IO[str]) -> None:
    """Comma-separated, header first; cells Excel would run as formulas are made text."""
    writer = csv.writer(fh)
    writer.writerow([_csv_safe(_cell(c)) for c in columns])  # a header cell from the upload is as untrusted as a cell
    for row in rows:
        writer.writerow([_csv_safe(_cell(row.get(c))) for c in columns])


def write_jsonl(rows: Iterable[dict], columns: Sequence[str], fh: IO[str]) -> None:
    """One JSON object per line, values as they are (lists stay lists)."""
    for row in rows:
        fh.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False, default=str) + "\n")


def _csv_safe(value):
    # Excel runs a CSV cell starting with = + - @ as a formula (OWASP "CSV injection"): make it text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return value


def write_xlsx(rows: Iterable[dict], columns: Sequence[str], target) -> None:
    """One sheet, header first; text stays text (no formulas), datetimes become Excel dates.

    The header row is written as the cells are: its names come from the uploaded file too.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import IllegalCharacterError

    values = [[_long_number(excel_safe(_cell(row.get(c)))) for c in columns] for row in rows]  # fail before the file opens
    book = Workbook(write_only=True)
    sheet = book.create_sheet("结果")
    # readable as it opens (a 12345 desk tester saw "###" dates and cut-off tickets): each column as wide as
    # what it holds in its first rows, long text wrapped, the header frozen with 筛选 buttons
    widths = [_width([c, *(line[i] for line in values[:200])]) for i, c in enumerate(columns)]
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    if values:
        sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(columns)))}{len(values) + 1}"
    wrap, bold = Alignment(wrap_text=True, vertical="top"), Font(bold=True)
    for n, line in enumerate(([excel_safe(_cell(c)) for c in columns], *values)):
        cells = []
        for i, value in enumerate(line):
            try:
                cell = WriteOnlyCell(sheet, value)
            except IllegalCharacterError as e:  # not a ValueError: write_table words ValueErrors for people
                raise ValueError(str(e)) from None
            as_text(cell)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            if n == 0:
                cell.font = bold
            elif widths[i] >= _WIDEST and isinstance(value, str):
                cell.alignment = wrap
            cells.append(cell)
        sheet.append(cells)
    book.save(target)


_WIDEST = 50  # a column of long text is this wide and wraps


def _width(values) -> float:
    """A column width for its values: a Chinese character takes two, a date-time 17, at least 8."""
    widest = 8.0
    for v in values:
        if isinstance(v, (dt.datetime, dt.date)):
            widest = max(widest, 17)
        elif v is not None:
            text = str(v)
            widest = max(widest, sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) + 2)
    return min(widest, _WIDEST)


def _long_number(value):
    """A 工单编号 like 2026112300123 as text: Excel shows a number of 12 digits or more as 2.02611E+12."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e11:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**11:
        return str(value)
    return value


def as_text(cell) -> None:
    """Keep a text cell text: openpyxl turns any string starting with = into a formula."""
    if cell.data_type == "f":
        cell.data_type = "s"


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def excel_safe(value):
    """A value Excel can hold: control characters dropped, time zones removed (Excel has none)."""
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone().replace(tzinfo=None)
    return value
