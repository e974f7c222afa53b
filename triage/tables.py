"""Reading and writing ticket tables: JSONL, CSV and Excel, in UTF-8, GBK or UTF-16.

Staff export tickets from many systems; a file we cannot read gets one clear sentence
(TableError), never a traceback, and a file we write opens cleanly in Excel and WPS.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Iterable, Sequence

__all__ = ["TEXT_COLUMNS", "TableError", "decode_bytes", "find_text_column", "excel_safe", "read_table", "write_table"]

SUFFIXES = (".jsonl", ".csv", ".xlsx")
# Column names used by common 12345 exports, tried when the asked-for column is absent.
TEXT_COLUMNS = ("text", "内容", "诉求内容", "工单内容", "来电内容", "反映内容", "留言详情", "留言内容", "问题描述", "问题内容", "content", "message")


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
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(f"{name} 的编码无法识别（不是 UTF-8 也不是 GBK）。请在 Excel/WPS 中另存为“CSV UTF-8”后重试。")


def _read_xlsx(raw: bytes, name: str) -> tuple[list[dict], list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise TableError(f"{name} 不是有效的 Excel (.xlsx) 文件，可能已损坏或是旧版 .xls 格式：请用 Excel/WPS 另存为 .xlsx。") from e
    try:
        sheet = book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
    except Exception as e:  # openpyxl raises many kinds on a damaged sheet
        raise TableError(f"{name} 的工作表无法读取，文件可能已损坏。") from e
    finally:
        book.close()
    if not rows:
        return [], []
    header = [str(h).strip() if h is not None else f"列{i + 1}" for i, h in enumerate(rows[0])]
    out = []
    for values in rows[1:]:
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        out.append({h: ("" if v is None else v if isinstance(v, (int, float)) else str(v)) for h, v in zip(header, values)})
    return out, header


def _read_csv(text: str, name: str) -> tuple[list[dict], list[str]]:
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        rows = [r for r in reader if any(c.strip() for c in r)]
    except csv.Error as e:
        raise TableError(f"{name} 不是有效的 CSV 文件（{e}）。") from None
    if not rows:
        return [], []
    header = [h.strip() or f"列{i + 1}" for i, h in enumerate(rows[0])]
    out = []
    for n, values in enumerate(rows[1:], 2):
        if len(values) > len(header):
            raise TableError(f"{name} 第 {n} 行的列数({len(values)})多于表头({len(header)})，可能有未加引号的逗号。")
        out.append({h: (values[i] if i < len(values) else "") for i, h in enumerate(header)})
    return out, header


def _read_jsonl(text: str, name: str) -> tuple[list[dict], list[str]]:
    out, header = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise TableError(f"{name} 第 {n} 行不是有效的 JSON。") from None
        if not isinstance(row, dict):
            raise TableError(f"{name} 第 {n} 行应是一个 JSON 对象，如 {{\"text\": \"...\"}}。")
        header += [k for k in row if k not in header]
        out.append(row)
    return out, header


def read_table(source: str | Path, data: bytes | None = None) -> tuple[list[dict], list[str]]:
    """Rows and column names from a .jsonl, .csv or .xlsx file (or its bytes)."""
    path = Path(source)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TableError(f"不支持的文件类型 {suffix or '(无后缀)'}：请使用 .csv、.xlsx 或 .jsonl。")
    if data is None:
        if not path.is_file():
            raise TableError(f"找不到文件：{path}")
        data = path.read_bytes()
    if not data.strip():
        raise TableError(f"{name} 是空文件。")
    if suffix == ".xlsx":
        rows, header = _read_xlsx(data, name)
    else:
        text = decode_bytes(data, name)
        rows, header = (_read_csv if suffix == ".csv" else _read_jsonl)(text, name)
    if not rows:
        raise TableError(f"{name} 没有数据行。")
    return rows, header


def find_text_column(header: Sequence[str], wanted: str | None = None) -> str:
    """The column holding ticket text: the asked-for one, else a well-known name."""
    if wanted and wanted in header:
        return wanted
    if not wanted or wanted == "text":
        for name in TEXT_COLUMNS:
            if name in header:
                return name
    shown = "、".join(header[:12])
    raise TableError(f"找不到文本列“{wanted or 'text'}”。文件中的列有：{shown}。请用 --column 指定。")


def _cell(value) -> str | int | float | bool:
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value))
    if value is None:
        return ""
    return value


def write_table(rows: Iterable[dict], columns: Sequence[str], target: str | Path | io.IOBase, fmt: str | None = None) -> None:
    """Write rows as JSONL, CSV (UTF-8 with BOM, for Excel) or XLSX, by suffix or `fmt`."""
    fmt = fmt or Path(str(target)).suffix.lower().lstrip(".")
    if fmt not in ("jsonl", "csv", "xlsx"):
        raise TableError(f"不支持的输出格式 {fmt!r}：请使用 .csv、.xlsx 或 .jsonl。")
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("结果")
        sheet.append(list(columns))
        for row in rows:
            sheet.append([excel_safe(_cell(row.get(c))) for c in columns])
        book.save(target)
        return
    own = isinstance(target, (str, Path))
    fh = open(target, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") if own else target
    try:
        if fmt == "csv":
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row.get(c)) for c in columns])
        else:
            for row in rows:
                fh.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False, default=str) + "\n")
    finally:
        if own:
            fh.close()


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def excel_safe(value):
    """Cell text Excel can hold and will not execute: control characters dropped, formulas made inert."""
    if isinstance(value, str):
        value = _ILLEGAL_XML.sub("", value)
        if value[:1] in ("=", "+", "-", "@"):
            return "'" + value
    return value
