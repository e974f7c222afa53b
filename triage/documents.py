"""Meeting notes from files: Word (.docx) as staff keep their 板凳会 records, or plain text.

Only the text matters to the extractor: paragraphs in order, and table rows (a 问题登记表 in the
record) as tab-separated lines, each merged cell once.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from .tables import TableError, decode_bytes

__all__ = ["DocumentError", "NOTE_SUFFIXES", "read_notes"]

NOTE_SUFFIXES = (".docx", ".txt", ".md")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class DocumentError(TableError):
    """A notes file cannot be read; the message is for a community worker (a kind of TableError)."""


def read_notes(name: str, data: bytes) -> str:
    """The text of a notes file (.docx, .txt, .md); DocumentError with one clear sentence otherwise."""
    suffix = Path(name).suffix.lower()
    if not data.strip():
        raise DocumentError(f"{name} 是空文件。")
    if data.startswith(_OLE2):
        raise DocumentError(f"{name} 是旧版 Word (.doc) 文件：请在 Word/WPS 中“另存为” .docx 后再上传。")
    if data.startswith(b"PK\x03\x04"):
        return _docx_text(name, data)
    if suffix == ".docx":
        raise DocumentError(f"{name} 不是有效的 Word (.docx) 文件，可能已损坏：请用 Word/WPS 打开后另存为 .docx。")
    if suffix not in NOTE_SUFFIXES:
        raise DocumentError(f"不支持的纪要文件类型 {suffix or '(无后缀)'}：请上传 Word (.docx) 或文本 (.txt) 文件。")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(f"{name} 看起来是二进制文件，不是文本。请上传 Word (.docx) 或文本 (.txt) 文件。")
    try:
        return decode_bytes(data, name)
    except TableError as e:
        raise DocumentError(str(e)) from None


def _docx_text(name: str, data: bytes) -> str:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    from ._sheets import WorkbookError, check_unpacked_size

    try:
        check_unpacked_size(data)
    except WorkbookError:
        raise DocumentError(f"{name} 解压后过大或已损坏，无法读取：请检查文件后重新保存为 .docx。") from None
    try:
        if "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist():
            raise DocumentError(f"{name} 是 Excel 表格，不是会议纪要：工单表请用“上传工单表”；"
                                "纪要请上传 Word (.docx) 或文本 (.txt) 文件。")
    except zipfile.BadZipFile:
        pass  # Document() below says it in a worker's words
    try:
        doc = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        # a workbook or another zip named .docx, or a damaged file
        raise DocumentError(f"{name} 不是有效的 Word (.docx) 文件：请用 Word/WPS 打开后另存为 .docx。") from e
    lines: list[str] = []
    for child in doc.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, doc).text)
        elif tag == "tbl":
            rows = []
            for row in Table(child, doc).rows:
                cells, previous = [], None
                for cell in row.cells:  # a merged cell appears once per grid column it spans
                    if cell._tc is not previous:
                        cells.append(cell.text.strip())
                    previous = cell._tc
                rows.append(cells)
            lines += _table_lines(rows)
    return "\n".join(lines)


# Headings of a 问题登记表 in a meeting record, by what the column holds.
_COLUMNS = {
    "text": ("问题", "内容", "诉求", "事项", "反映问题", "问题描述", "问题内容", "诉求内容", "反映内容", "意见建议"),
    "speaker": ("提出人", "反映人", "诉求人", "居民", "姓名", "提出者"),
    "place": ("地点", "位置", "楼栋", "住址", "地址", "楼号"),
    "reply": ("答复", "回复", "办理情况", "处理情况", "处理意见", "答复意见", "办理意见", "现场答复"),
}


def _table_lines(rows: list[list[str]]) -> list[str]:
    """A 问题登记表 as the lines a record would have: "提出人（地点）：问题" then "处理情况：答复".

    A table without such headings stays one tab-separated line per row.
    """
    if not rows:
        return []
    header = [h.replace(" ", "") for h in rows[0]]
    where = {}
    for key, names in _COLUMNS.items():
        found = next((i for i, h in enumerate(header) if h in names), None)
        if found is None:
            found = next((i for i, h in enumerate(header) if any(n in h for n in names)
                          and i not in where.values()), None)
        if found is not None and found not in where.values():
            where[key] = found
    if "text" not in where:
        return ["\t".join(r) for r in rows]

    def cell(row: list[str], key: str) -> str:
        i = where.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    out = []
    for n, row in enumerate(rows[1:], 1):
        text = cell(row, "text")
        if not text:
            continue
        who, place = cell(row, "speaker"), cell(row, "place")
        prefix = (who or "居民") + (f"（{place}）" if place else "")
        out.append(f"{prefix}：{text}" if who or place else f"{n}. {text}")
        if cell(row, "reply"):
            out.append(f"处理情况：{cell(row, 'reply')}")
    return out
