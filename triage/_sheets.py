"""Workbook reading for `triage.tables`: .xlsx (openpyxl) and old .xls (xlrd), as grids of values.

Exports from government systems and office software are rarely clean: the tickets may sit on the
second sheet behind a 说明 sheet, a date may be merged down over a day's rows, a zh-CN date format
(`yyyy"年"m"月"d"日"`) leaves the cell a plain number, and some systems write a wrong sheet size.
Each grid here has merged values filled down and such dates turned into datetimes; the caller
finds the header row and builds the rows.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = ["Grid", "MAX_UNPACKED_BYTES", "TooManyRows", "UnusualWorkbook", "WorkbookError", "WorkbookTooBig",
           "check_unpacked_size", "read_html", "read_xls", "read_xlsx"]

# Number formats that show a date although Excel's built-in date list (which openpyxl knows) lacks them.
_DATE_FORMAT = re.compile(r"[yd年月日]|m+/d|d+/m", re.IGNORECASE)
# Above this, a workbook is read in streaming mode (less memory; merged cells are not filled then).
_STREAM_BYTES = 8 * 1024 * 1024  # a 5.7 MB workbook (15k tickets) peaks at ~100 MB in full mode
# The same by unpacked size, as 1M rows of one letter pack into 165 KB.
_STREAM_UNPACKED = 64 * 1024 * 1024


@dataclass
class Grid:
    """One sheet's cell values, row by row, and whether it is the sheet that opens first."""

    name: str
    rows: list[list]
    active: bool


class WorkbookError(ValueError):
    """The bytes are not a workbook this reader can open (the caller words the message)."""


def _excel_date(value: float, fmt: str | None):
    from openpyxl.utils.datetime import from_excel

    if fmt and _DATE_FORMAT.search(fmt.split(";")[0].replace("[Red]", "")) and 0 < value < 2958466:
        try:
            return _date_only(from_excel(value), fmt)
        except (ValueError, OverflowError):
            return value
    return value


def _date_only(value, fmt: str | None):
    """A datetime shown without a time (format has no hours) is a date: its hour is unknown, not midnight."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and fmt and not re.search(r"[hs]", fmt, re.I):
        return value.date()
    return value


# A 20 MB upload may unpack to gigabytes (a "zip bomb"); real exports unpack to ~10× their size.
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
# Expat, which openpyxl reads sheets with, parses one markup token (a comment, an instruction, a tag)
# in time growing with the square of its length: a 20 MB comment takes 17 s, 390 MB hours. Excel and WPS
# write no comments, no instruction but the XML declaration, and never 128 KB without a "<" (a cell holds
# at most 32,767 characters, ~100 KB). Whether some aligned block of _BLOCK bytes lacks a "<" is what is
# checked: any longer stretch fills one.
_MAX_COMMENT = 4096
_BLOCK = 128 * 1024
_MARKUP = re.compile(rb"<(?:!--|\?|!DOCTYPE|!ENTITY)")
_ROW_TAGS = (b"<row ", b"<row>", b":row ", b":row>")


class WorkbookTooBig(WorkbookError):
    """The workbook unpacks to more than MAX_UNPACKED_BYTES."""


class TooManyRows(WorkbookError):
    """The sheets hold more rows than the caller allowed; reading stopped there."""


class UnusualWorkbook(WorkbookError):
    """The workbook holds XML that no spreadsheet program writes (large comments, DTDs, UTF-16 parts)."""


def check_unpacked_size(raw: bytes, limit: int | None = None) -> None:
    """WorkbookTooBig when a zip container (.xlsx, .docx) would unpack to more than `limit` bytes."""
    limit = MAX_UNPACKED_BYTES if limit is None else limit
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            total = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise WorkbookError(str(e)) from e
    if total > limit:
        raise WorkbookTooBig(f"unpacks to {total} bytes")


def _inspect(raw: bytes) -> tuple[int, int]:
    """(bytes unpacked, <row> tags) of an .xlsx, after checking every XML part before openpyxl parses it."""
    check_unpacked_size(raw)
    rows = 0
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            infos = z.infolist()
            for info in infos:
                with z.open(info) as part:
                    rows += _check_part(part, info.filename)
    except WorkbookError:
        raise
    except Exception as e:  # zipfile raises several kinds on damaged or encrypted members
        raise WorkbookError(str(e)) from e
    return sum(info.file_size for info in infos), rows


def _check_part(part, filename: str) -> int:
    """<row> tags in one zip member; UnusualWorkbook when it holds markup that would stall the parser."""
    chunk = part.read(8 * _BLOCK)  # whole blocks, so that they stay aligned from one chunk to the next
    start = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")
    if chunk.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
        raise UnusualWorkbook(f"{filename}: UTF-16 XML")
    if start and not start.startswith(b"<"):
        return 0  # a picture or other binary part: openpyxl does not parse it as XML
    rows, edge, carry = 0, b"", b""
    while chunk:
        following = part.read(8 * _BLOCK)
        if any(chunk.find(b"<", i, i + _BLOCK) < 0 for i in range(0, len(chunk) - _BLOCK + 1, _BLOCK)):
            raise UnusualWorkbook(f"{filename}: {_BLOCK} bytes without markup")
        rows += sum((edge + chunk).count(tag) for tag in _ROW_TAGS)
        edge = chunk[-4:]
        carry = _check_markup(carry + chunk, filename, last=not following)
        chunk = following
    return rows


def _check_markup(data: bytes, filename: str, last: bool) -> bytes:
    """Comments and instructions of at most _MAX_COMMENT bytes, no DTD; returns what to look at again."""
    pos = 0
    while (found := _MARKUP.search(data, pos)) is not None:
        opening = found.group()
        if opening in (b"<!DOCTYPE", b"<!ENTITY"):
            raise UnusualWorkbook(f"{filename}: a DTD")
        closing = b"-->" if opening == b"<!--" else b"?>"
        end = data.find(closing, found.end(), found.start() + _MAX_COMMENT)
        if end < 0:
            if len(data) - found.start() < _MAX_COMMENT and not last:
                return data[found.start():]  # it may close in the next chunk
            raise UnusualWorkbook(f"{filename}: a comment or instruction of over {_MAX_COMMENT} bytes")
        pos = end + len(closing)
    return data[max(pos, len(data) - 8):]  # an opening cut by the chunk's end


# In full mode openpyxl makes a cell for every position of a sheet's span when its rows are read; in
# streaming mode a row is as long as its last cell, empty ones included. 50,000 tickets of 40 columns
# are 2 million cells; tiny rows each holding one empty cell in column XFD would be 16,384 each.
_MAX_SPAN = 10_000_000
_MAX_CELLS = 20_000_000
_TITLE_ROWS = 25  # rows a sheet may have besides tickets, for max_rows: a title, the header, a 合计 row


def read_xlsx(raw: bytes, max_rows: int | None = None) -> list[Grid]:
    """Every visible worksheet of an .xlsx/.xlsm, active sheet first.

    With `max_rows`, TooManyRows as soon as one sheet holds more filled rows than that (its header and
    title rows aside), before a million-row sheet is read into memory.
    """
    unpacked, row_tags = _inspect(raw)
    stream = len(raw) > _STREAM_BYTES or unpacked > _STREAM_UNPACKED or (max_rows is not None and row_tags > max_rows)
    grids = _read_book(raw, stream, max_rows)
    if grids is None:  # cells at A1 and XFD1048576 span 17 billion: streaming reads only the rows there are
        grids = _read_book(raw, True, max_rows)
    return sorted(grids, key=lambda g: not g.active)


def _read_book(raw: bytes, stream: bool, max_rows: int | None) -> list[Grid] | None:
    """The visible sheets; None when full mode finds a sheet whose span is too large to walk cell by cell."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=stream, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
        raise WorkbookError(str(e)) from e
    try:
        active = book.active.title if book.active is not None else None
        grids, cells = [], 0
        for sheet in book.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible":
                continue
            if stream:
                sheet.reset_dimensions()  # some systems write A1 as the size: read every row there is
            elif sheet.max_row * sheet.max_column > _MAX_SPAN:
                return None
            rows, filled = [], 0  # counted per sheet: a 字典 sheet beside the tickets is not a ticket
            for row in sheet.iter_rows():
                cells += len(row)
                if cells > _MAX_CELLS:
                    raise WorkbookTooBig(f"over {_MAX_CELLS} cells")
                rows.append([_value(c) for c in row])
                if max_rows is not None and any(v is not None for v in rows[-1]):
                    filled += 1
                    if filled > max_rows + _TITLE_ROWS:
                        raise TooManyRows(f"over {max_rows} rows")
            if not stream:  # streaming mode does not see merged ranges
                _fill_merged(rows, [(r.min_row, r.max_row, r.min_col) for r in sheet.merged_cells.ranges])
            grids.append(Grid(sheet.title, rows, sheet.title == active))
    except WorkbookError:
        raise
    except Exception as e:  # openpyxl raises many kinds on a damaged sheet
        raise WorkbookError(str(e)) from e
    finally:
        book.close()
    return grids



def _value(cell):
    value = cell.value
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not cell.is_date:
        return _excel_date(value, cell.number_format)
    return _date_only(value, cell.number_format)


def _fill_merged(rows: list[list], ranges) -> None:
    """Copy a vertically merged cell's value down its column (e.g. one 受理时间 for a day's tickets)."""
    for top, bottom, col in ranges:
        if bottom == top or top > len(rows):
            continue
        value = rows[top - 1][col - 1] if col - 1 < len(rows[top - 1]) else None
        for r in range(top, min(bottom, len(rows))):
            if col - 1 < len(rows[r]):
                rows[r][col - 1] = value


def read_xls(raw: bytes) -> list[Grid]:
    """Every visible sheet of an old binary .xls (Excel 97–2003), active sheet first."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=raw, formatting_info=True, on_demand=False, logfile=io.StringIO())
    except Exception as e:  # xlrd raises its own and struct/IndexError kinds on damaged files
        raise WorkbookError(str(e)) from e
    grids = []
    for index in range(book.nsheets):
        sheet = book.sheet_by_index(index)
        if getattr(sheet, "visibility", 0):
            continue
        rows = []
        for r in range(sheet.nrows):
            row = []
            for c in range(sheet.ncols):
                cell = sheet.cell(r, c)
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        value = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
                    except (ValueError, OverflowError):
                        row.append(cell.value)
                        continue
                    shown = book.format_map.get(book.xf_list[cell.xf_index].format_key) if cell.xf_index is not None else None
                    row.append(_date_only(value, shown.format_str if shown else None))  # as for .xlsx
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    row.append(None)
                elif cell.ctype == xlrd.XL_CELL_NUMBER and float(cell.value).is_integer():
                    row.append(int(cell.value))
                else:
                    row.append(cell.value)
            rows.append(row)
        _fill_merged(rows, [(rlo + 1, rhi, clo + 1) for rlo, rhi, clo, _ in sheet.merged_cells])
        grids.append(Grid(sheet.name, rows, bool(getattr(sheet, "sheet_visible", index == 0))))
    return sorted(grids, key=lambda g: not g.active)


class _TableParser(HTMLParser):
    """Cells of the first <table> that has rows; <br> inside a cell becomes a line break."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._depth = 0
        self._done = False

    def handle_starttag(self, tag, attrs):
        if self._done:
            return
        if tag == "table":
            self._depth += 1
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if self._done:
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split(" ")).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "table" and self._depth:
            self._depth -= 1
            self._done = bool(self.rows) and not self._depth

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_html(text: str) -> list[Grid]:
    """The table of a web page saved as .xls, as many government systems export “Excel” files."""
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    return [Grid("网页表格", [list(r) for r in parser.rows], True)] if parser.rows else []
