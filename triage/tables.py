"""Reading and writing ticket tables: JSONL, CSV and Excel, in UTF-8, GBK or UTF-16.

Staff export tickets from many systems; a file we cannot read gets one clear sentence
(TableError), never a traceback, and a file we write opens cleanly in Excel and WPS.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

from ._writing import as_text, excel_safe, write_csv, write_jsonl, write_xlsx

__all__ = ["TEXT_COLUMNS", "TableError", "as_text", "clean_name", "decode_bytes", "excel_safe", "find_text_column", "read_table",
           "write_table"]

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
_ZIP, _OLE2 = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class TableError(ValueError):
    """An input or output table cannot be used; the message is for a community worker."""


def decode_bytes(raw: bytes, name: str = "文件") -> str:
    """Decode text from UTF-8 (with or without BOM), UTF-16 (BOM) or GBK/GB18030."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw[:4096]:
        raise TableError(f"{name} 看起来是二进制文件，不是文本表格。请上传 CSV、Excel (.xlsx) 或 JSONL 文件。")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # A UTF-8 file cut off in the middle of its last character (an interrupted download) is checked before
    # GB18030, which would read the broken end as some other characters without complaint.
    for encoding in ("utf-8-sig", "gb18030"):
        for cut in (1, 2, 3):
            try:
                text = raw[:-cut].decode(encoding)
            except UnicodeDecodeError:
                continue
            if encoding == "gb18030":
                try:
                    return raw.decode("gb18030")  # a whole GBK file whose last character is fine
                except UnicodeDecodeError:
                    pass
            raise TableError(f"{name} 在文件末尾被截断（最后一个字不完整），可能没有下载或复制完整。"
                             f"请重新导出或下载后再试；截断前的内容共 {text.count(chr(10)) + 1} 行。")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        pass
    raise TableError(f"{name} 的编码无法识别（不是 UTF-8 也不是 GBK）。请在 Excel/WPS 中另存为“CSV UTF-8”后重试。")


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


def _names(header: Sequence) -> list[str]:
    names: list[str] = []
    for i, h in enumerate(header):
        name = clean_name(h) if _filled(h) else f"列{i + 1}"
        base, k = name, 2
        while name in names:  # two "备注" columns must both survive
            name, k = f"{base}_{k}", k + 1
        names.append(name)
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
    header = _names(grid[at])
    out = []
    for i in range(at + 1, len(grid)):
        values = list(grid[i])
        if not any(map(_filled, values)):
            continue
        first = next(v for v in values if _filled(v))
        if isinstance(first, str) and _TOTALS.match(first):
            say(f"第 {line(i)} 行是合计行（“{first.strip()[:12]}”），不是工单，已跳过。")
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


def _from_workbook(data: bytes, name: str, say) -> tuple[list[dict], list[str]]:
    from ._sheets import WorkbookError, read_xls, read_xlsx

    old = data.startswith(_OLE2)
    if old and "EncryptedPackage".encode("utf-16-le") in data:  # Excel keeps a password-protected .xlsx in an OLE2 box
        raise TableError(f"{name} 设置了打开密码，无法读取：请在 Excel/WPS 中取消密码（文件 → 信息 → 保护工作簿，"
                         f"或“文档加密”）后另存，再上传。")
    try:
        grids = read_xls(data) if old else read_xlsx(data)
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
        sample = text[:8192]
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
    _check_quotes(grid, lines, delimiter, name)
    return _rows_from_grid(grid, name, say, lines, strict=True)


def _shape(value: str) -> str:
    """"GD20261103000101" → "GD00000000000000": what a column's values look like, digits aside."""
    return re.sub(r"\d", "0", value.strip())


def _check_quotes(grid: list[list[str]], lines: list[int], delimiter: str, name: str) -> None:
    """Refuse a cell that swallowed whole rows because its opening quote was never closed.

    A quoted cell may hold line breaks, commas and tabs. But a line inside it that starts like a row of
    its own (its first field shaped like the first column's values: a ticket number, a row number) and
    goes on with the delimiter is a ticket row, and reading on would silently fold it into this one.
    """
    at = _header_index(grid)
    if at is None or len(grid) <= at + 1:
        return
    firsts = {_shape(row[0]) for row in grid[at + 1:] if row and row[0].strip() and "\n" not in row[0]}
    if not firsts:
        return
    for row, line in zip(grid[at + 1:], lines[at + 1:]):
        for cell in row:
            if "\n" not in cell:
                continue
            inner = cell.splitlines()
            hit = next((k for k, part in enumerate(inner[1:], 1)
                        if delimiter in part and _shape(part.split(delimiter, 1)[0]) in firsts), None)
            if hit is not None:
                start = inner[0].strip()[:12]
                raise TableError(
                    f"{name} 第 {line} 行有一个引号没有配对：以“{start}…”开头的这一格把第 {line + hit} 行整行也包括进去了，"
                    f"后面的工单会丢失。请在 Excel/WPS 中打开，检查这一格的引号（\"）后另存为 CSV 再试。")


def _read_json(text: str, name: str) -> tuple[list[dict], list[str]]:
    if text.lstrip().startswith("["):  # a JSON array of objects, as many tools save it
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TableError(f"{name} 是 JSON 数组，但第 {e.lineno} 行有错误（{e.msg}）。") from None
        rows = [(n, row) for n, row in enumerate(data, 1)]
        where = "第 {} 项"
    else:
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError:
                raise TableError(f"{name} 第 {n} 行不是有效的 JSON。") from None
        where = "第 {} 行"
    out, header = [], []
    for n, row in rows:
        if not isinstance(row, dict):
            raise TableError(f"{name} {where.format(n)}应是一个 JSON 对象，如 {{\"text\": \"...\"}}。")
        header += [k for k in row if k not in header]
        out.append(row)
    return out, header


def read_table(source: str | Path, data: bytes | None = None,
               notes: list[str] | None = None) -> tuple[list[dict], list[str]]:
    """Rows and column names from a CSV/TSV/TXT, Excel (.xlsx/.xls) or JSON(L) file, or its bytes.

    The content decides how it is read when it contradicts the suffix (a workbook named .csv).
    What was skipped or guessed (a title row, a 合计 row, which sheet) is appended to `notes`.
    """
    path = Path(source)
    name = path.name
    suffix = path.suffix.lower()
    say = notes.append if notes is not None else (lambda _m: None)
    if suffix not in SUFFIXES:
        raise TableError(f"不支持的文件类型 {suffix or '(无后缀)'}：请使用 .csv、.xlsx、.xls 或 .jsonl。")
    if data is None:
        if not path.is_file():
            raise TableError(f"找不到文件：{path}")
        data = path.read_bytes()
    if not data.strip():
        raise TableError(f"{name} 是空文件。")
    if data.startswith((_ZIP, _OLE2)):
        rows, header = _from_workbook(data, name, say)
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
            errno.ENOSPC: "磁盘已满", errno.EROFS: "磁盘只读", errno.EISDIR: "这是一个文件夹"}.get(
        e.errno, f"系统错误 {e.strerror or e}")


def write_table(rows: Iterable[dict], columns: Sequence[str], target: str | Path | io.IOBase, fmt: str | None = None) -> None:
    """Write rows as JSONL, CSV (UTF-8 with BOM, for Excel) or XLSX, by suffix or `fmt`.

    A file path is written to a temporary file first and renamed into place, so a failure leaves
    no half-written file behind.
    """
    fmt = fmt or Path(str(target)).suffix.lower().lstrip(".")
    if fmt not in ("jsonl", "csv", "xlsx"):
        raise TableError(f"不支持的输出格式 {fmt!r}：请使用 .csv、.xlsx 或 .jsonl。")
    own = isinstance(target, (str, Path))
    out = Path(target).with_name(f".{Path(target).name}.part") if own else target
    try:
        if fmt == "xlsx":
            write_xlsx(rows, columns, out)
        else:
            fh = open(out, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") if own else out
            try:
                (write_csv if fmt == "csv" else write_jsonl)(rows, columns, fh)
            finally:
                if own:
                    fh.close()
        if own:
            os.replace(out, target)
    except OSError as e:
        raise TableError(f"无法写入 {target}：{_os_reason(e)}。") from None
    except (ValueError, TypeError) as e:  # openpyxl refusing a value
        raise TableError(f"无法写入 {Path(str(target)).name}：有单元格的内容 Excel 无法保存（{e}）。") from None
    finally:
        if own and Path(out).exists():
            Path(out).unlink()
