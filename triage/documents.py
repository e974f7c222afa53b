"""Meeting notes from files: Word (.docx) as staff keep their 板凳会 records, or plain text.

Only the text matters to the extractor: paragraphs in order, and table rows (a 问题登记表 in the
record) as tab-separated lines, each merged cell once.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from .tables import BinaryFileError, TableError, decode_bytes

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
    if data.startswith(_OLE2):  # an old Word or Excel file, or any Office file with an opening password
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise DocumentError(f"{name} 设置了打开密码，无法读取：请取消密码后另存，再上传。")
        if suffix in (".xls", ".xlsx", ".et"):
            raise DocumentError(f"{name} 是 Excel 表格，不是会议纪要：工单表请用“上传工单表”。")
        raise DocumentError(f"{name} 是旧版 Word (.doc) 文件：请在 Word/WPS 中“另存为” .docx 后再上传。")
    if data.startswith(b"PK\x03\x04"):
        return _docx_text(name, data)
    if suffix == ".docx":
        raise DocumentError(f"{name} 不是有效的 Word (.docx) 文件，可能已损坏：请用 Word/WPS 打开后另存为 .docx。")
    if suffix not in NOTE_SUFFIXES:
        raise DocumentError(f"不支持的纪要文件类型 {suffix or '(无后缀)'}：请上传 Word (.docx) 或文本 (.txt) 文件。")
    try:
        return decode_bytes(data, name)
    except BinaryFileError:
        raise DocumentError(f"{name} 看起来是二进制文件，不是文本。请上传 Word (.docx) 或文本 (.txt) 文件。") from None
    except TableError as e:
        raise DocumentError(str(e)) from None


# The XML python-docx parses, document.xml above all. A record of 100,000 characters (the most the
# extractor takes) is 1–4 MB of it as Word or WPS format it; 100 MB of empty paragraphs took 153 s and
# 2.5 GB to read.
_MAX_XML_BYTES = 8 * 1024 * 1024


def _check_zip(name: str, data: bytes) -> None:
    """Refuse, before parsing, a zip that unpacks too far, holds too much XML, or is a workbook."""
    from ._sheets import check_unpacked_size

    try:
        check_unpacked_size(data)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if any(info.filename == "xl/workbook.xml" for info in infos):
                raise DocumentError(f"{name} 是 Excel 表格，不是会议纪要：工单表请用“上传工单表”；"
                                    "纪要请上传 Word (.docx) 或文本 (.txt) 文件。")
            xml = 0
            for info in infos:
                with z.open(info) as part:
                    head = part.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
                if head.startswith((b"<", b"\xff\xfe", b"\xfe\xff")) or b"\x00<" in head[:2]:
                    xml += info.file_size  # pictures are left out: they may be large, and are not parsed
    except DocumentError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error):
        # WorkbookError (a ValueError), and what zipfile raises on damaged, encrypted or oddly packed members
        raise DocumentError(f"{name} 解压后过大或已损坏，无法读取：请检查文件后重新保存为 .docx。") from None
    if xml > _MAX_XML_BYTES:
        raise DocumentError(f"{name} 文件内容太大（文字和格式解压后超过 {_MAX_XML_BYTES // 2**20} MB），不像是一次会议的纪要："
                            f"请把纪要正文另存为新的 .docx 或 .txt 后再上传。")


def _docx_text(name: str, data: bytes) -> str:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_zip(name, data)
    try:
        doc = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        # a workbook or another zip named .docx, or a damaged file
        raise DocumentError(f"{name} 不是有效的 Word (.docx) 文件：请用 Word/WPS 打开后另存为 .docx。") from e
    except Exception as e:  # lxml refusing the XML (cut short, an undefined entity), python-docx a missing part
        raise DocumentError(f"{name} 文件已损坏，无法读取其中的文字：请用 Word/WPS 打开后另存为 .docx 再上传。") from e
    body = doc.element.body
    if body is None:
        raise DocumentError(f"{name} 文件已损坏，无法读取其中的文字：请用 Word/WPS 打开后另存为 .docx 再上传。")
    runs = {qn("w:r"), qn("w:hyperlink")}
    lines: list[str] = []
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if tag == "p":
            # Paragraph.text reads only the runs and links; one without them is an empty line, and skipping
            # python-docx's query for it keeps a document of many empty paragraphs fast
            lines.append(Paragraph(child, doc).text if any(c.tag in runs for c in child) else "")
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
