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
            for row in Table(child, doc).rows:
                cells, previous = [], None
                for cell in row.cells:  # a merged cell appears once per grid column it spans
                    if cell._tc is not previous:
                        cells.append(cell.text.strip())
                    previous = cell._tc
                lines.append("\t".join(cells))
    return "\n".join(lines)
