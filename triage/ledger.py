"""Issue lists as ledger tables: Markdown for the chat, CSV and XLSX for Excel/WPS."""

from __future__ import annotations

import io
from typing import Sequence

from .notes import Issue
from .tables import as_text, excel_safe, write_table

__all__ = ["LEDGER_COLUMNS", "issues_markdown", "ledger_bytes", "ledger_rows", "write_ledger", "write_xlsx"]

LEDGER_COLUMNS = ("序号", "问题内容", "类别", "责任主体", "办理时限", "紧急程度", "地点", "提出人", "原话", "办理情况")


def _deadline(issue: Issue) -> str:
    return issue.deadline.strftime("%Y-%m-%d %H:%M") if issue.deadline else "—"


def ledger_rows(issues: Sequence[Issue]) -> list[dict]:
    """One ledger row per issue, with the columns a 问题台账 has."""
    rows = []
    for n, i in enumerate(issues, 1):
        owners = "、".join((i.owner, *i.co_owners))
        rows.append({
            "序号": n,
            "问题内容": i.summary + (f"（提出 {i.mentions} 次）" if i.mentions > 1 else ""),
            "类别": i.category_name + ("（待复核）" if i.needs_review else ""),
            "责任主体": owners,
            "办理时限": _deadline(i),
            "紧急程度": "紧急" if i.urgent else "一般",
            "地点": i.location or "",
            "提出人": "、".join(i.speakers),
            "原话": "\n".join(f"“{q}”" for q in i.quotes),
            "办理情况": i.response or "待派单",
        })
    return rows


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def issues_markdown(issues: Sequence[Issue]) -> str:
    """A Markdown table for the chat window."""
    if not issues:
        return "没有发现需要办理的问题。"
    cols = ("序号", "问题内容", "类别", "责任主体", "办理时限", "紧急程度", "地点", "提出人")
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in ledger_rows(issues):
        lines.append("| " + " | ".join(_md(row[c]) for c in cols) + " |")
    return "\n".join(lines)


def write_ledger(issues: Sequence[Issue], target, fmt: str) -> None:
    """Write the ledger as csv or xlsx (to a path or a binary/text stream)."""
    rows = ledger_rows(issues)
    if fmt == "xlsx":
        _write_xlsx(rows, target)
    else:
        write_table(rows, LEDGER_COLUMNS, target, fmt)


def write_xlsx(header: Sequence[str], rows: Sequence[Sequence], target, widths: Sequence[int] = (),
               title: str = "问题台账", filters: bool = False,
               extra: Sequence[tuple[str, Sequence[Sequence]]] = (), heading: str = "",
               tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence], Sequence[int]]] = ()) -> None:
    """A formatted workbook: bold frozen header, wrapped cells, resident text kept inert.

    Date-times are real Excel dates shown as yyyy-mm-dd hh:mm; `filters` adds 筛选 buttons to the header.
    `extra` adds sheets of plain rows after it (title, rows), e.g. a 汇总; `tables` then adds sheets laid out
    like the first (title, header, rows, widths), e.g. a 打印版 with the columns a meeting reads.
    Printed, each page is landscape A4 as wide as the sheet, repeats the column names and carries
    `heading` (or the sheet's title) on top and 第 N 页 共 M 页 below; the header stays in row 1.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title
    _table_sheet(sheet, header, rows, widths, heading or title)
    if filters and rows:
        sheet.auto_filter.ref = sheet.dimensions
    for name, lines in extra:
        more = book.create_sheet(name)
        for line in lines:
            more.append([excel_safe(v) for v in line])
        header: tuple = ()
        for cells in more.iter_rows():
            if cells and cells[0].value in ("类别", "责任主体", "社区"):
                header = tuple(str(c.value or "") for c in cells)  # a block's column names (办结率, 满意率)
            for cell in cells:
                as_text(cell)
                if isinstance(cell.value, float):
                    named = str(cells[0].value or "") + (header[cell.column - 1] if cell.column <= len(header) else "")
                    # the shares of a 汇总 (办结率…) as numbers a report can sum and chart; 平均办理天数 is days
                    cell.number_format = "0.0%" if "率" in named else "0.0"
                if isinstance(cell.value, str) and cell.value.endswith("：") or cell.column == 1 and cell.value in (
                        "类别", "责任主体"):
                    cell.font = Font(bold=True)  # the heading of each block
        more.column_dimensions["A"].width = 24
        for letter in "BCDEFGHI":
            more.column_dimensions[letter].width = 11
    for name, names, lines, sizes in tables:
        _table_sheet(book.create_sheet(name), names, lines, sizes, heading or title)
    book.save(target)


def _table_sheet(sheet, header: Sequence[str], rows: Sequence[Sequence], widths: Sequence[int], heading: str) -> None:
    """Column names in bold in a frozen row 1, then the rows, wrapped, dates as dates, set up to print."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.append(list(header))
    for row in rows:
        sheet.append([excel_safe(v) for v in row])
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            as_text(cell)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if cell.is_date:
                cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    _print_setup(sheet, heading)


def _print_setup(sheet, heading: str) -> None:
    """How the sheet prints: landscape A4, fitted to the page width, column names on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    # & starts a code in Excel's page header; Excel allows 255 characters for the whole header
    sheet.oddHeader.center.text = heading[:100].replace("&", "&&")
    sheet.oddHeader.center.size = 14
    sheet.oddFooter.center.text = "第 &P 页 共 &N 页"


def _write_xlsx(rows: list[dict], target) -> None:
    write_xlsx(LEDGER_COLUMNS, [[r[c] for c in LEDGER_COLUMNS] for r in rows], target,
               (6, 36, 12, 26, 18, 9, 14, 12, 48, 30))


def ledger_bytes(issues: Sequence[Issue]) -> bytes:
    """The XLSX ledger as bytes (for downloads)."""
    buf = io.BytesIO()
    _write_xlsx(ledger_rows(issues), buf)
    return buf.getvalue()
