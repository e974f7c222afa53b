"""Reading and writing ticket tables: JSONL, CSV and Excel, in UTF-8, GBK, UTF-16 or Big5.

Staff export tickets from many systems; a file we cannot read gets one clear sentence
(TableError), never a traceback, and a file we write opens cleanly in Excel and WPS.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import json
import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

from ._writing import as_text, excel_safe, write_csv, write_jsonl, write_xlsx

__all__ = ["TEXT_COLUMNS", "BinaryFileError", "TableError", "TooManyRowsError", "as_text", "clean_name", "decode_bytes", "excel_safe",
           "find_text_column", "read_table", "write_table"]

SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls")
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# Column names used by common 12345 exports, tried in this order when the asked-for column is absent.
TEXT_COLUMNS = ("text", "内容", "诉求内容", "工单内容", "来电内容", "反映内容", "留言详情", "留言内容", "问题描述",
                "问题内容", "事项描述", "诉求描述", "具体内容", "反映问题", "来电诉求", "工单描述", "情况描述",
                "content", "message")
# Names that mark a header row (besides TEXT_COLUMNS) when a title or blank rows sit above it.
_HEADER_WORDS = frozenset(TEXT_COLUMNS) | {"序号", "编号", "工单编号", "工单号", "受理时间", "来电时间", "受理日期",
                                           "诉求人", "来电人", "联系电话", "所属社区", "所属街道", "received_at"}
# Columns holding the answer to a ticket, never its text, even when their name contains 内容.
_REPLY = re.compile(r"回复|答复|办理|处理|结果|反馈")  # 处理意见 is a reply; 居民意见 is the residents' text
_TOTALS = re.compile(r"^\s*(合\s*计|总\s*计|小\s*计|共\s*计)")
# a sheet's footer under the tickets: "制表：永宁区12345热线中心", "审核人：…", "注：…", "打印时间：…"
_FOOTER = re.compile(r"^\s*(?:制表|制表人|制表单位|填表|填表人|填报|填报人|填报单位|审核|审核人|审批|负责人|联系人|注|备注|说明|数据来源"
                     r"|打印时间|导出时间|统计时间|统计口径)\s*[：:]")
_ZIP, _OLE2 = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class TableError(ValueError):
    """An input or output table cannot be used; the message is for a community worker."""


class BinaryFileError(TableError):
    """The bytes are no text in any encoding we read (NULs, and not UTF-16): a binary file."""


class TooManyRowsError(TableError):
    """The table has more rows than allowed (`limit`); reading stopped as soon as that was clear."""

    def __init__(self, name: str, limit: int):
        super().__init__(f"{name} 行数太多：超过了 {limit} 行的上限。请拆分后上传。")
        self.limit = limit


def _upload_row_limit() -> int:
    """Rows an uploaded table may have: $TRIAGE_MAX_UPLOAD_ROWS, 50,000 unless set (as the service reads it)."""
    try:
        return int(os.environ.get("TRIAGE_MAX_UPLOAD_ROWS", "50000"))
    except ValueError:
        return 50_000


def decode_bytes(raw: bytes, name: str = "文件") -> str:
    """Decode text from UTF-8 (with or without BOM), UTF-16 (with or without BOM), GBK/GB18030 or Big5.

    A file whose lines mix UTF-8 and GBK (rows pasted in from another export) is decoded line by line.
    Bytes that decode only into characters no Chinese text is made of are refused, not guessed.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    text = _utf16_without_bom(raw)
    if text is not None:
        return text
    if b"\x00" in raw[:4096]:
        raise BinaryFileError(f"{name} 看起来是二进制文件，不是文本表格。请上传 CSV、Excel (.xlsx) 或 JSONL 文件。")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # A UTF-8 file cut off in the middle of its last character (an interrupted download) is checked before
    # GB18030, which would read the broken end as some other characters without complaint.
    for cut in (1, 2, 3):
        try:
            text = raw[:-cut].decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        raise _truncated(name, text.count("\n") + 1)
    lines = (raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw).split(b"\n")
    decoded = _decode_lines(lines)
    if None not in decoded:
        text = "\n".join(decoded)
        if _plausible(text):
            return text
    elif decoded.index(None) == len(lines) - 1:  # only the last line is unread: a GBK file cut short?
        for cut in (0, 1, 2, 3):
            try:
                lines[-1][:len(lines[-1]) - cut].decode("gb18030")
            except UnicodeDecodeError:
                continue
            if cut:
                raise _truncated(name, len(lines))
            break  # it decodes whole: it reads as no Chinese, it is not cut
    try:  # Big5 as Windows writes it; its traditional characters are made simplified by normalisation later
        text = raw.decode("cp950")
    except UnicodeDecodeError:
        pass
    else:
        if _plausible(text):
            return text
    raise TableError(f"{name} 的编码无法识别（不是 UTF-8、GBK 或 Big5），请另存为 UTF-8 后重试"
                     f"（Excel/WPS 中选“CSV UTF-8”，记事本中选“UTF-8”）。")


def _truncated(name: str, lines: int) -> TableError:
    return TableError(f"{name} 在文件末尾被截断（最后一个字不完整），可能没有下载或复制完整。"
                      f"请重新导出或下载后再试；截断前的内容共 {lines} 行。")


def _utf16_without_bom(raw: bytes) -> str | None:
    """The text of UTF-16 saved without a byte-order mark, which looks binary for its many NUL bytes.

    ASCII (digits, commas, line ends) in UTF-16 has a NUL as one byte of every pair, always the same
    one; binary data has NULs anywhere, and decodes into control characters.
    """
    head = raw[:4096]
    if len(raw) % 2 or len(head) < 4:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) < max(2, len(head) // 100) or min(even, odd) * 8 > max(even, odd):
        return None
    try:
        text = raw.decode("utf-16-be" if even > odd else "utf-16-le")
    except UnicodeDecodeError:
        return None
    odd_chars = sum(unicodedata.category(c) in ("Cc", "Cn", "Co", "Cs") and c not in "\t\r\n" for c in text[:4096])
    return text if odd_chars * 100 <= min(len(text), 4096) else None


def _decode_lines(lines: list[bytes]) -> list[str | None]:
    """Each line in UTF-8 or GB18030, whichever reads as Chinese (None for neither).

    GB18030 never uses the byte of a line break inside a character, so a file that decodes whole is
    split the same way; only its lines holding an uncommon letter are looked at one by one.
    """
    try:
        text = b"\n".join(lines).decode("gb18030")
    except UnicodeDecodeError:
        return [_decode_line(line) for line in lines]
    common = _common_characters()
    uncommon = {c for c in set(text) if c >= "\x80" and c not in common and unicodedata.category(c)[0] in "LC"}
    decoded: list[str | None] = text.split("\n")
    if uncommon:
        for i, line in enumerate(decoded):
            if not uncommon.isdisjoint(line):
                decoded[i] = _decode_line(lines[i])
    return decoded


def _decode_line(line: bytes) -> str | None:
    """One line as UTF-8 or GB18030, whichever reads as Chinese; None when neither does."""
    try:
        utf8 = line.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and utf8.isascii():
        return utf8
    try:
        gb = line.decode("gb18030")
    except UnicodeDecodeError:
        gb = None
    readings = [(_rare_share(text), text) for text in (utf8, gb) if text is not None]
    if not readings:
        return None
    (share, letters), text = min(readings, key=lambda r: r[0][0])  # UTF-8 first on a tie
    return text if letters < 6 or share <= 0.5 else None  # a Big5 line pasted among GBK ones


@functools.cache
def _common_characters() -> frozenset[str]:
    """The 3,755 commonest simplified characters (GB2312 level 1) and 5,401 commonest traditional ones (Big5)."""
    chars = set()
    for codec, leads, trails in (("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)),
                                 ("big5", range(0xA4, 0xC7), (*range(0x40, 0x7F), *range(0xA1, 0xFF)))):
        for lead in leads:
            for trail in trails:
                try:
                    chars.add(bytes((lead, trail)).decode(codec))
                except UnicodeDecodeError:
                    pass
    return frozenset(chars)


def _rare_share(text: str) -> tuple[float, int]:
    """(share of letters that are rare, letters seen): kana, Cyrillic or rare characters in bulk are mojibake.

    Real tickets have about 0.1 % rare letters (a name, 咗 in Cantonese); another encoding read as GB18030
    gives 50–70 %. Punctuation, digits and symbols count for neither.
    """
    common = _common_characters()
    usual = rare = 0
    for char in text:
        if char < "\x80" or "\uff01" <= char <= "\uff5e":  # ASCII, and its full-width forms (ＷＩＦＩ, ２号楼)
            continue
        if char in common:
            usual += 1
        elif unicodedata.category(char)[0] in "LC":
            rare += 1
    return rare / max(1, usual + rare), usual + rare


def _plausible(text: str) -> bool:
    share, letters = _rare_share(text[:200_000])
    return letters < 8 or share <= 0.3


def clean_name(value) -> str:
    """A header cell as a column name: line breaks typed with Alt+Enter and outer spaces removed."""
    return re.sub(r"\s*\n\s*", "", str(value)).strip().strip("\u3000")


def _filled(value) -> bool:
    return value is not None and str(value).strip() != ""


def _header_index(rows: Sequence[Sequence]) -> int | None:
    """Which of the first rows is the header: one with a known column name, else the first full row.

    Exports often start with a merged title ("XX街道12345工单明细") or blank rows; a title row has
    one filled cell where the header has many.
    """
    head = rows[:20]
    for i, row in enumerate(head):
        if any(isinstance(v, str) and clean_name(v) in _HEADER_WORDS for v in row):
            return i
    counts = [sum(map(_filled, row)) for row in head]
    if not counts or max(counts) == 0:
        return None
    need = max(min(2, max(counts)), -(-max(counts) * 3 // 5))
    return next(i for i, n in enumerate(counts) if n >= need)


_COLUMN_WORD = re.compile(r"(?:日期|时间|电话|内容|类别|单位|时限|结果|情况|办结|地址|姓名|反映人|来电人|编号|序号|备注|主体)$")


def _sub_header(row: Sequence) -> bool:
    """A row under the header that is itself column names: short texts, two or more of them like 问题内容, 反映日期."""
    cells = [v for v in row if _filled(v)]
    if len(cells) < 2 or not all(isinstance(v, str) and len(v.strip()) <= 12 for v in cells):
        return False
    return sum(1 for v in cells if clean_name(v) in _HEADER_WORDS or _COLUMN_WORD.search(clean_name(v))) >= 2


def _names(header: Sequence) -> list[str]:
    """Column names from a header row: blank cells named 列N, a repeated name numbered (备注, 备注_2)."""
    names: list[str] = []
    taken: set[str] = set()
    tried: dict[str, int] = {}  # the next number to try per repeated name: 4,000 "a" columns stay linear
    for i, h in enumerate(header):
        name = clean_name(h) if _filled(h) else f"列{i + 1}"
        base, k = name, tried.get(name, 2)
        while name in taken:  # two "备注" columns must both survive
            name, k = f"{base}_{k}", k + 1
        tried[base] = k
        names.append(name)
        taken.add(name)
    return names


def _rows_from_grid(grid: Sequence[Sequence], name: str, say, lines: Sequence[int] | None = None,
                    strict: bool = False) -> tuple[list[dict], list[str]]:
    """Dicts keyed by the header row; title rows above it, blank rows and totals rows left out."""
    at = _header_index(grid)
    if at is None:
        return [], []
    line = (lambda i: lines[i]) if lines else (lambda i: i + 1)
    if at:
        say(f"表头在第 {line(at)} 行，上面的 {at} 行（标题等）已跳过。")
    top = list(grid[at])
    if at + 1 < len(grid) and _sub_header(grid[at + 1]):
        # a two-row header ("群众反映情况" over 反映日期, 问题内容 …): the lower row names the columns
        below = list(grid[at + 1]) + [None] * max(0, len(top) - len(grid[at + 1]))
        top = [b if _filled(b) else t for t, b in zip(top + [None] * (len(below) - len(top)), below)]
        say(f"表头占第 {line(at)}–{line(at + 1)} 两行，已合并读取。")
        at += 1
    header = _names(top)
    out = []
    for i in range(at + 1, len(grid)):
        values = list(grid[i])
        if not any(map(_filled, values)):
            continue
        first = next(v for v in values if _filled(v))
        if isinstance(first, str) and _TOTALS.match(first):
            say(f"第 {line(i)} 行是合计行（“{first.strip()[:12]}”），不是工单，已跳过。")
            continue
        if isinstance(first, str) and _FOOTER.match(first) and sum(map(_filled, values)) <= 1:
            say(f"第 {line(i)} 行是表尾说明（“{first.strip()[:12]}”），不是工单，已跳过。")
            continue
        if len(values) > len(header):
            if strict and any(map(_filled, values[len(header):])):
                raise TableError(f"{name} 第 {line(i)} 行的列数({len(values)})多于表头({len(header)})，可能有未加引号的逗号。")
            extra = [j for j in range(len(header), len(values)) if _filled(values[j])]
            if extra:
                header += _names([None] * (max(extra) + 1))[len(header):]
        out.append({h: ("" if j >= len(values) or values[j] is None else
                        values[j] if isinstance(values[j], (int, float, dt.datetime, dt.date)) else str(values[j]))
                    for j, h in enumerate(header)})
    return out, header


def _from_workbook(data: bytes, name: str, say, max_rows: int | None) -> tuple[list[dict], list[str]]:
    from ._sheets import TooManyRows, UnusualWorkbook, WorkbookError, WorkbookTooBig, read_xls, read_xlsx

    old = data.startswith(_OLE2)
    if old and "EncryptedPackage".encode("utf-16-le") in data:  # Excel keeps a password-protected .xlsx in an OLE2 box
        raise TableError(f"{name} 设置了打开密码，无法读取：请在 Excel/WPS 中取消密码（文件 → 信息 → 保护工作簿，"
                         f"或“文档加密”）后另存，再上传。")
    try:
        grids = read_xls(data) if old else read_xlsx(data, max_rows)
    except TooManyRows:
        raise TooManyRowsError(name, max_rows) from None
    except WorkbookTooBig:
        raise TableError(f"{name} 解压后太大，不像是正常导出的工单表：请拆分后再上传，"
                         f"或用 Excel/WPS 打开后另存为 .xlsx 再试。") from None
    except UnusualWorkbook:
        raise TableError(f"{name} 里有 Excel 和 WPS 都不会写入的内容（很长的 XML 注释或标记），不是正常导出的 Excel 文件："
                         f"请用 Excel/WPS 打开后另存为 .xlsx 再试。") from None
    except WorkbookError:
        kind = "旧版 .xls" if old else "Excel (.xlsx)"
        raise TableError(f"{name} 不是有效的 {kind} 文件，可能已损坏：请用 Excel/WPS 打开后另存为 .xlsx 再试。") from None
    return _from_grids(grids, name, say)


def _text_column_of(header: Sequence[str]) -> str | None:
    """The header cell named exactly as a known ticket-text column (诉求内容, 来电内容…), if any."""
    names = {clean_name(h): h for h in header}
    return next((names[c] for c in TEXT_COLUMNS if c in names), None)


def _wordy(rows: list[dict], column: str) -> bool:
    """Tickets, not a summary table: the text column holds sentences (a 汇总 sheet's 问题内容 holds "电梯故障")."""
    sizes = sorted(len(re.findall(r"[\u4e00-\u9fff]", str(r.get(column) or ""))) for r in rows)
    return bool(sizes) and sizes[len(sizes) // 2] >= 8


def _from_grids(grids, name: str, say) -> tuple[list[dict], list[str]]:
    """The ticket sheet; several sheets with tickets (one per half-month, per 街道…) are read together.

    A sheet holds tickets when its header has a known text column (诉求内容, 来电内容…) holding sentences;
    without any such sheet, the first sheet with rows is read. Rows of several sheets get a 工作表 column,
    and each sheet's text and time columns are renamed to the first ticket sheet's, so 来电内容 on one sheet
    and 诉求内容 on the next are read as the same column.
    """
    from .tagging import find_time_column

    read = []  # (grid, rows, header, notes, text column): each sheet is read once
    for grid in grids:
        notes: list[str] = []
        rows, header = _rows_from_grid(grid.rows, name, notes.append)
        if rows:
            read.append((grid, rows, header, notes, _text_column_of(header)))
    if not read:
        return [], []
    with_column = [r for r in read if r[4] is not None]
    tickets = [r for r in with_column if _wordy(r[1], r[4])]
    if len(tickets) <= 1:
        grid, rows, header, notes, _ = (tickets or with_column or read)[0]
        if len(grids) > 1 or not grid.active:
            say(f"读取工作表“{grid.name}”。")
        for note in notes:
            say(note)
        return rows, header
    sheet_column = _names([*sorted({h for t in tickets for h in t[2]}), "工作表"])[-1]  # "工作表", or 工作表_2 if taken
    text_column, time_column = tickets[0][4], find_time_column(tickets[0][2])
    header: list[str] = [sheet_column]
    rows = []
    for grid, part, head, notes, theirs_text in tickets:
        rename = {theirs_text: text_column}
        theirs = find_time_column(head)
        if time_column and theirs and theirs != time_column and time_column not in head:
            rename[theirs] = time_column
        head = [rename.get(h, h) for h in head]
        header += [h for h in head if h not in header]
        rows += [{sheet_column: grid.name, **{rename.get(k, k): v for k, v in row.items()}} for row in part]
        for note in notes:
            say(f"工作表“{grid.name}”：{note}")
        if len(rename) > 1 or next(iter(rename)) != text_column:
            said = "、".join(f"“{a}”" for a in rename)
            say(f"工作表“{grid.name}”的{said}列按“{'”“'.join(rename.values())}”读取。")
    said = "、".join(f"“{grid.name}”{len(part)} 行" for grid, part, *_ in tickets)
    say(f"读取了 {len(tickets)} 个工作表：{said}，共 {len(rows)} 行；“{sheet_column}”列注明每行来自哪个工作表。")
    skipped = [grid.name for grid, *_ in read if all(grid is not t[0] for t in tickets)]
    if skipped:
        say(f"工作表“{'”“'.join(skipped)}”不是工单明细（没有诉求内容列，或只是汇总），未读取。")
    for row in rows:  # every row has every column, as in a single sheet
        for h in header:
            row.setdefault(h, "")
    return rows, header


def _read_delimited(text: str, name: str, say) -> tuple[list[dict], list[str]]:
    delimiter = None
    first, _, rest = text.partition("\n")
    if re.fullmatch(r"sep=.\r?", first.strip("\ufeff")):  # Excel's own hint line
        delimiter, text = first.strip("\ufeff")[4], rest
    if delimiter is None:
        # The sniffer's regular expressions take time growing with the square of the sample: a few lines are enough.
        sample = "\n".join(text[:4096].split("\n")[:20])
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter if sample.strip() else ","
        except csv.Error:
            delimiter = ","
    # Only the delimiter is sniffed: the sniffer's guess about doubled quotes is often wrong,
    # and Excel always writes "" inside quoted cells.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True)
    grid, lines = [], []
    try:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            grid.append(row)
            lines.append(start)
    except csv.Error as e:
        raise TableError(f"{name} 第 {reader.line_num} 行不是有效的 CSV（{e}）。") from None
    _check_quotes(grid, lines, delimiter, name, text)
    return _rows_from_grid(grid, name, say, lines, strict=True)


def _shape(value: str) -> str:
    """"GD20261103000101" → "GD00000000000000": what a column's values look like, digits aside."""
    return re.sub(r"\d", "0", value.strip())


def _check_quotes(grid: list[list[str]], lines: list[int], delimiter: str, name: str, text: str) -> None:
    """Refuse a cell that swallowed whole rows because its opening quote was never closed.

    A quoted cell may hold line breaks, commas and tabs. But a line inside it that starts like a row of
    its own (its first field shaped like the first column's values: a ticket number, a row number) is a
    ticket row, and reading on would silently fold it into this one. When the cell is in the first column
    (the text comes first) and its own first line reads as a whole row (as wide as the header, its last
    field shaped like the last column's: a ticket number, a date), a later line reading so is one too.
    A quote never closed at all runs to the end of the file, where no other row may be left to compare
    with: that is refused as soon as it spans a line.
    """
    at = _header_index(grid)
    if at is None or len(grid) <= at + 1:
        return
    body = list(zip(grid[at + 1:], lines[at + 1:]))
    width = len(grid[at])
    firsts = {_shape(row[0]) for row, _ in body if row and row[0].strip() and "\n" not in row[0]}
    lasts = {_shape(row[-1]) for row, _ in body if len(row) == width > 1 and "\n" not in row[-1]}
    lasts = {s for s in lasts if len(s) >= 4 and "0" in s}  # numbers, dates, phones: not a word like 是

    def whole_row(part: str) -> bool:
        fields = part.split(delimiter)
        return len(fields) == width and _shape(fields[-1]) in lasts

    for row, line in body:
        for j, cell in enumerate(row):
            if "\n" not in cell:
                continue
            inner = cell.splitlines()
            own_row = j == 0 and whole_row(inner[0])  # the rest of the broken row is on the cell's first line
            hit = next((k for k, part in enumerate(inner[1:], 1) if delimiter in part and (
                _shape(part.split(delimiter, 1)[0]) in firsts or own_row and whole_row(part))), None)
            if hit is not None:
                start = inner[0].strip()[:12]
                raise TableError(
                    f"{name} 第 {line} 行有一个引号没有配对：以“{start}…”开头的这一格把第 {line + hit} 行整行也包括进去了，"
                    f"后面的工单会丢失。请在 Excel/WPS 中打开，检查这一格的引号（\"）后另存为 CSV 再试。")
    row, line = body[-1]
    last = row[-1].strip() if row else ""
    tail = row[-1].replace('"', '""') if row else ""  # as written in the file, quotes doubled
    if "\n" in last and text.endswith(tail) and text[-len(tail) - 1:-len(tail)] == '"':
        raise TableError(
            f"{name} 第 {line} 行有一个引号没有配对：以“{last.splitlines()[0][:12]}…”开头的这一格一直读到了文件末尾，"
            f"把后面 {last.count(chr(10))} 行都包括进去了，这些工单会丢失。"
            f"请在 Excel/WPS 中打开，检查这一格的引号（\"）后另存为 CSV 再试。")


def _read_json(text: str, name: str) -> tuple[list[dict], list[str]]:
    if text.lstrip().startswith("["):  # a JSON array of objects, as many tools save it
        try:
            data = _load_json(text, name, "")
        except json.JSONDecodeError as e:
            raise TableError(f"{name} 是 JSON 数组，但第 {e.lineno} 行有错误（{e.msg}）。") from None
        rows = [(n, row) for n, row in enumerate(data, 1)]
        where = "第 {} 项"
    else:
        rows = []
        for n, line in enumerate(text.split("\n"), 1):  # not splitlines(): a JSON string may hold U+2028
            if not line.strip():
                continue
            try:
                rows.append((n, _load_json(line, name, f"第 {n} 行")))
            except json.JSONDecodeError:
                raise TableError(f"{name} 第 {n} 行不是有效的 JSON。") from None
        where = "第 {} 行"
    out, header, seen = [], [], set()
    for n, row in rows:
        if not isinstance(row, dict):
            raise TableError(f"{name} {where.format(n)}应是一个 JSON 对象，如 {{\"text\": \"...\"}}。")
        header += [k for k in row if k not in seen]
        seen.update(row)
        out.append(row)
    return out, header


_JSON_DEPTH = 64  # a ticket's fields nest a few levels (诉求人 → 电话); thousands only in a crafted file


def _load_json(text: str, name: str, where: str):
    """One JSON value; a TableError for nesting or numbers no ticket has, which json and str() cannot handle."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # Python refuses to read an integer of over 4,300 digits
        problem = "有一个长达几千位的数字"
    except RecursionError:
        problem = "嵌套太深"
    else:
        if not _deeper_than(value, _JSON_DEPTH):
            return value
        problem = "嵌套太深"
    raise TableError(f"{name} {where}{problem}，不像是工单数据，无法读取：请检查文件后重新导出。")


def _deeper_than(value, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    return False


def read_table(source: str | Path, data: bytes | None = None, notes: list[str] | None = None,
               max_rows: int | None = None) -> tuple[list[dict], list[str]]:
    """Rows and column names from a CSV/TSV/TXT, Excel (.xlsx/.xls) or JSON(L) file, or its bytes.

    The content decides how it is read when it contradicts the suffix (a workbook named .csv).
    What was skipped or guessed (a title row, a 合计 row, which sheet) is appended to `notes`.
    More rows than `max_rows` raise TooManyRowsError, for a workbook before it is read whole. Bytes
    handed over (an upload) are held to $TRIAGE_MAX_UPLOAD_ROWS (50,000) unless `max_rows` says
    otherwise; a file named by its path (the command line) is read whole.
    """
    path = Path(source)
    name = path.name
    suffix = path.suffix.lower()
    say = notes.append if notes is not None else (lambda _m: None)
    if max_rows is None and data is not None:
        max_rows = _upload_row_limit()
    if suffix not in SUFFIXES:
        raise TableError(f"不支持的文件类型 {suffix or '(无后缀)'}：请使用 .csv、.xlsx、.xls 或 .jsonl。")
    if data is None:
        if not path.is_file():
            raise TableError(f"找不到文件：{path}")
        data = path.read_bytes()
    if not data.strip():
        raise TableError(f"{name} 是空文件。")
    if data.startswith((_ZIP, _OLE2)):
        rows, header = _from_workbook(data, name, say, max_rows)
    else:
        text = decode_bytes(data, name)
        if re.match(r"\s*<", text) and re.search(r"<table", text, re.IGNORECASE):
            from ._sheets import read_html

            rows, header = _from_grids(read_html(text), name, say)
            say(f"{name} 是网页格式的表格（一些系统导出的 .xls 是这样），已按网页表格读取。")
        elif suffix in (".json", ".jsonl"):
            rows, header = _read_json(text, name)
        else:
            try:
                rows, header = _read_delimited(text, name, say)
            except TableError:
                if suffix in _WORKBOOK_SUFFIXES:
                    raise TableError(f"{name} 不是有效的 Excel 文件：请用 Excel/WPS 打开后另存为 .xlsx 再试。") from None
                raise
            if suffix in _WORKBOOK_SUFFIXES:
                if not rows:
                    raise TableError(f"{name} 不是有效的 Excel 文件：请用 Excel/WPS 打开后另存为 .xlsx 再试。")
                say(f"{name} 实际上是文本表格（CSV），已按 CSV 读取。")
    if not rows:
        raise TableError(f"{name} 没有数据行。")
    if max_rows is not None and len(rows) > max_rows:
        raise TooManyRowsError(name, max_rows)
    return rows, header


_HAN = re.compile(r"[\u3400-\u9fff]")


def find_text_column(header: Sequence[str], wanted: str | None = None, rows: Sequence[dict] | None = None,
                     notes: list[str] | None = None) -> str:
    """The column holding ticket text: the asked-for one, else a well-known name, else the wordiest column.

    The last guess needs `rows` and is reported in `notes`; a column of replies (回复内容, 办理结果)
    is never taken for the residents' text.
    """
    names = {clean_name(h): h for h in header}
    if wanted and (wanted in header or clean_name(wanted) in names):
        return wanted if wanted in header else names[clean_name(wanted)]
    if not wanted or wanted == "text":
        exact = _text_column_of(header)
        if exact is not None:
            return exact
        for known in TEXT_COLUMNS[1:]:  # "诉求内容（必填）", "问题描述(详细)"
            for clean, h in names.items():
                if known in clean and not _REPLY.search(clean):
                    return h
        if rows:
            def length(h):  # Chinese characters per row: dates, amounts and codes are not a complaint
                texts = [r.get(h) for r in rows[:200]]
                return sum(len(_HAN.findall(t)) for t in texts if isinstance(t, str)) / max(1, len(texts))
            candidates = [h for h in header if not _REPLY.search(clean_name(h))]
            best = max(candidates, key=length, default=None)
            if best is not None and length(best) >= 6:
                if notes is not None:
                    notes.append(f"没有找到“内容/诉求内容”等列，已使用文字最长的“{clean_name(best)}”列；不对请用 --column 指定。")
                return best
    shown = "、".join(clean_name(h) for h in header[:12])
    raise TableError(f"找不到文本列“{wanted or 'text'}”。文件中的列有：{shown}。请用 --column 指定。")


def _os_reason(e: OSError) -> str:
    """Why a file could not be written, in a worker's words."""
    import errno

    return {errno.ENOENT: "文件夹不存在", errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限",
            errno.ENOSPC: "磁盘已满", errno.EROFS: "磁盘只读", errno.EISDIR: "这是一个文件夹",
            errno.EPIPE: "接收输出的程序已经关闭"}.get(e.errno, f"系统错误 {e.strerror or e}")


def write_table(rows: Iterable[dict], columns: Sequence[str], target: str | Path | io.IOBase, fmt: str | None = None) -> None:
    """Write rows as JSONL, CSV (UTF-8 with BOM, for Excel) or XLSX, by suffix or `fmt`.

    A file path is written to a temporary file first and renamed into place, so a failure leaves
    no half-written file behind; a symbolic link keeps pointing at the file, now replaced. A path that
    is no regular file (a pipe, /dev/stdout, a device) is written to as it is: renaming over it would
    replace it with a file.
    """
    fmt = fmt or Path(str(target)).suffix.lower().lstrip(".")
    if fmt not in ("jsonl", "csv", "xlsx"):
        raise TableError(f"不支持的输出格式 {fmt!r}：请使用 .csv、.xlsx 或 .jsonl。")
    own = isinstance(target, (str, Path))
    direct = own and _special_file(target)
    final = Path(os.path.realpath(target)) if own and not direct else None
    out = final.with_name(f".{final.name}.part") if final else target
    try:
        if fmt == "xlsx" and own:
            book = io.BytesIO()  # built in memory: openpyxl leaves its zip open when a disk write fails
            write_xlsx(rows, columns, book)
            with open(out, "wb") as fh:
                fh.write(book.getbuffer())
        elif fmt == "xlsx":
            write_xlsx(rows, columns, out)
        else:
            fh = open(out, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") if own else out
            try:
                (write_csv if fmt == "csv" else write_jsonl)(rows, columns, fh)
            finally:
                if own:
                    fh.close()
        if final:
            os.replace(out, final)
    except OSError as e:
        raise TableError(f"无法写入 {target}：{_os_reason(e)}。") from None
    except (ValueError, TypeError) as e:  # openpyxl refusing a value
        raise TableError(f"无法写入 {Path(str(target)).name}：有单元格的内容 Excel 无法保存（{e}）。") from None
    finally:
        if final and out.exists():
            out.unlink()


def _special_file(path: str | Path) -> bool:
    """Whether `path` (its links followed) exists and is neither a regular file nor a folder."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # missing (a new file), or a link to nowhere: written as a new file
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)
