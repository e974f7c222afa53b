import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from triage.tables import TableError, TooManyRowsError, decode_bytes, find_text_column, read_table, write_table

DATA = Path(__file__).parent / "data"
CSV = "编号,内容,received_at\n1,3号楼电梯坏了两天,2026-11-20T10:00:00+08:00\n2,\"东门车棚漏雨，电动车都淋湿了\",\n"


def test_csv_utf8_and_gbk_read_the_same(tmp_path):
    for encoding in ("utf-8", "utf-8-sig", "gbk", "utf-16"):
        path = tmp_path / f"t-{encoding}.csv"
        path.write_bytes(CSV.encode(encoding))
        rows, header = read_table(path)
        assert header == ["编号", "内容", "received_at"]
        assert rows[1]["内容"] == "东门车棚漏雨，电动车都淋湿了"


def test_xlsx_and_jsonl(tmp_path):
    book = Workbook()
    book.active.append(["内容", "电话"])
    book.active.append(["楼道堆满杂物", 13800000000])
    book.active.append([None, None])
    book.save(tmp_path / "t.xlsx")
    rows, header = read_table(tmp_path / "t.xlsx")
    assert header == ["内容", "电话"] and rows == [{"内容": "楼道堆满杂物", "电话": 13800000000}]
    (tmp_path / "t.jsonl").write_text('{"text": "狗叫"}\n\n{"text": "停水", "id": 2}\n', encoding="utf-8")
    rows, header = read_table(tmp_path / "t.jsonl")
    assert header == ["text", "id"] and len(rows) == 2


BAD = [
    ("empty.csv", b"", "空文件"),
    ("blank.csv", b"   \n", "空文件"),
    ("header_only.csv", "内容\n".encode(), "没有数据行"),
    ("binary.csv", b"\x00\x01\x02\x03PK\x00", "二进制"),
    ("latin.csv", "内容\n".encode("utf-8") + b"\xff\xfe\xfa\x80\x81", "编码"),
    ("broken.xlsx", b"PK\x03\x04 this is not a workbook", "Excel"),
    ("old.xls", b"whatever", "不是有效的 Excel"),
    ("notes.doc", b"whatever", "不支持"),
    ("bad.jsonl", b'{"text": "ok"}\n{not json}\n', "第 2 行"),
    ("list.jsonl", b'["a"]\n', "JSON 对象"),
    ("wide.csv", "内容\n电梯坏了,多出来,一列\n".encode(), "列数"),
    # a ledger with an opening password (a director's trial: it was called a damaged .xls)
    ("ledger.xlsx", (Path(__file__).parent / "data" / "ledger_password.xlsx").read_bytes(), "设置了打开密码"),
]


@pytest.mark.parametrize("name, data, words", BAD)
def test_bad_files_get_one_clear_sentence(tmp_path, name, data, words):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(TableError, match=words):
        read_table(tmp_path / name)


def test_missing_file(tmp_path):
    with pytest.raises(TableError, match="找不到"):
        read_table(tmp_path / "nope.csv")


def test_text_column_is_found_by_common_names():
    assert find_text_column(["编号", "诉求内容"], "text") == "诉求内容"
    assert find_text_column(["a", "正文"], "正文") == "正文"
    with pytest.raises(TableError, match="a、b"):
        find_text_column(["a", "b"], "text")


def test_written_files_open_and_keep_formulas_inert(tmp_path):
    rows = [{"内容": "=1+1 电梯坏", "tags": ["a", "b"]}]
    write_table(rows, ["内容", "tags"], tmp_path / "o.xlsx")
    sheet = load_workbook(tmp_path / "o.xlsx").active
    assert sheet["A2"].value == "=1+1 电梯坏" and sheet["B2"].value == "a、b"  # the resident's words, unchanged
    with zipfile.ZipFile(tmp_path / "o.xlsx") as z:  # ...stored as text: no formula element anywhere
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
    write_table(rows, ["内容", "tags"], tmp_path / "o.csv")
    raw = (tmp_path / "o.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel reads UTF-8
    assert "'=1+1 电梯坏" in raw.decode("utf-8-sig")  # a CSV cell Excel would run is made text
    buf = io.StringIO()
    write_table(rows, ["内容", "tags"], buf, "jsonl")
    assert json.loads(buf.getvalue())["tags"] == ["a", "b"]


def test_decode_prefers_utf8_then_gbk():
    assert decode_bytes("电梯".encode("gbk")) == "电梯"
    assert decode_bytes("\ufeff电梯".encode("utf-8")) == "电梯"


def test_control_characters_do_not_break_excel(tmp_path):
    write_table([{"内容": "电梯\x01坏了\x1f"}], ["内容"], tmp_path / "c.xlsx")
    assert load_workbook(tmp_path / "c.xlsx").active["A2"].value == "电梯坏了"


# ---------- messy exports, as staff really have them ----------

TICKET_A = "3号楼电梯停在5楼不动，老人下不了楼"
TICKET_B = "东门车棚有人飞线充电，晚上插着不拔"


def _messy_workbook(path):
    """说明 sheet first; on the tickets sheet a merged title, a blank row, a wrapped header,
    two 备注 columns, a date merged down over two rows, a zh-CN date format and a 合计 row."""
    import datetime as dt

    book = Workbook()
    book.active.title = "说明"
    book.active["A1"] = "填表说明：每行一件工单"
    sheet = book.create_sheet("工单")
    sheet["A1"] = "幸福街道12345工单明细（2026年11月）"
    sheet.merge_cells("A1:E1")
    sheet.append([])
    sheet.append(["工单编号", "诉求\n内容", "受理时间", "备注", "备注"])
    sheet.append([1, TICKET_A, dt.datetime(2026, 11, 3, 9, 15), "首次来电", "回访"])
    sheet.append([2, TICKET_B, None, "", "催办"])
    sheet.merge_cells("C4:C5")
    sheet.append([3, "=====紧急=====楼道起火", 46328.395, "", ""])
    sheet["C6"].number_format = 'yyyy"年"m"月"d"日"'
    sheet.append(["合计", None, None, "共3件", None])
    sheet.append(["制表：幸福街道12345工作站    审核：王主任", None, None, None, None])  # the sheet's footer
    book.active = 1
    book.save(path)


def test_messy_workbook_is_read_as_staff_mean_it(tmp_path):
    import datetime as dt

    _messy_workbook(tmp_path / "m.xlsx")
    notes = []
    rows, header = read_table(tmp_path / "m.xlsx", notes=notes)
    assert header == ["工单编号", "诉求内容", "受理时间", "备注", "备注_2"]
    assert [r["工单编号"] for r in rows] == [1, 2, 3]  # title, blank, 合计 and footer rows left out
    assert rows[0]["备注"] == "首次来电" and rows[0]["备注_2"] == "回访"  # both columns kept
    assert rows[1]["受理时间"] == dt.datetime(2026, 11, 3, 9, 15)  # merged down from the row above
    assert rows[2]["受理时间"] == dt.datetime(2026, 11, 2, 9, 28, 48)  # a number in a 年月日 format is a date
    assert any("合计" in n for n in notes) and any("表头在第 3 行" in n for n in notes)
    assert any("表尾说明" in n for n in notes)
    assert find_text_column(header, "text") == "诉求内容"


@pytest.mark.parametrize("stream", [False, True])
def test_wrong_sheet_size_written_by_some_systems(tmp_path, monkeypatch, stream):
    if stream:  # large workbooks are read in openpyxl's streaming mode, which trusts the size unless reset
        monkeypatch.setattr("triage._sheets._STREAM_BYTES", 0)
    book = Workbook()
    book.active.append(["内容"])
    for i in range(5):
        book.active.append([f"{TICKET_A}（{i}）"])
    book.save(tmp_path / "d.xlsx")
    with zipfile.ZipFile(tmp_path / "d.xlsx") as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(r'<dimension ref="[^"]+"/>', '<dimension ref="A1"/>', sheet).encode()
    with zipfile.ZipFile(tmp_path / "d.xlsx", "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    rows, _ = read_table(tmp_path / "d.xlsx")
    assert len(rows) == 5


def test_old_xls_and_web_page_xls(tmp_path):
    rows, header = read_table(DATA / "tickets_old.xls")
    assert "诉求内容" in header and len(rows) == 8
    # a date cell shown without a time is a date, as in .xlsx (it was read as midnight: a director's trial)
    rows, header = read_table(DATA / "ledger_sept_old.xls")
    assert rows[0]["反映日期"] == dt.date(2026, 9, 2) and rows[1]["反映日期"] == "9月5日"
    page = ("<html><body><table><tr><th>序号</th><th>事项描述</th></tr>"
            f"<tr><td>1</td><td>{TICKET_A}</td></tr><tr><td>2</td><td>{TICKET_B}<br>已催办</td></tr></table></body></html>")
    (tmp_path / "export.xls").write_text(page, encoding="utf-8")
    notes = []
    rows, header = read_table(tmp_path / "export.xls", notes=notes)
    assert find_text_column(header) == "事项描述" and rows[1]["事项描述"] == f"{TICKET_B}\n已催办"
    assert any("网页" in n for n in notes)


def test_content_decides_when_the_suffix_lies(tmp_path):
    book = Workbook()
    book.active.append(["内容"])
    book.active.append([TICKET_A])
    book.save(tmp_path / "real.xlsx")
    (tmp_path / "renamed.csv").write_bytes((tmp_path / "real.xlsx").read_bytes())
    assert read_table(tmp_path / "renamed.csv")[0] == [{"内容": TICKET_A}]
    (tmp_path / "text.xlsx").write_bytes(f"内容\n{TICKET_B}\n".encode("gbk"))
    assert read_table(tmp_path / "text.xlsx")[0] == [{"内容": TICKET_B}]


CSV_CASES = [
    # Excel's "sep=" hint line, semicolons
    ("sep=;\n编号;内容\n1;" + TICKET_A + "\n", "utf-8", [TICKET_A]),
    # quoted cells with line breaks and doubled quotes, as Excel writes them
    ('编号,内容\n1,"' + TICKET_A + '\n又说了一遍"\n2,"他说""马上修""，没来"\n', "utf-8", [TICKET_A + "\n又说了一遍", '他说"马上修"，没来']),
    # a title line above the header, GBK, CRLF
    ("幸福街道工单明细,,\r\n编号,来电内容,受理时间\r\n1," + TICKET_B + ",2026/11/3 9:15\r\n", "gbk", [TICKET_B]),
    # Excel "Unicode text": UTF-16, tab-separated
    ("编号\t问题描述\n1\t" + TICKET_A + "\n", "utf-16", [TICKET_A]),
]


@pytest.mark.parametrize("text, encoding, expected", CSV_CASES)
def test_csv_as_office_software_writes_it(tmp_path, text, encoding, expected):
    (tmp_path / "t.csv").write_bytes(text.encode(encoding))
    rows, header = read_table(tmp_path / "t.csv")
    assert [r[find_text_column(header)] for r in rows] == expected


def test_csv_error_names_the_physical_line(tmp_path):
    (tmp_path / "t.csv").write_text(f"编号,内容\n\n1,{TICKET_A}\n\n\n2,电梯坏了,多出来,两列\n", encoding="utf-8")
    with pytest.raises(TableError, match="第 6 行"):
        read_table(tmp_path / "t.csv")


def test_json_array_and_nested_values(tmp_path):
    data = [{"内容": TICKET_A, "诉求人": {"姓名": "陈先生", "电话": "138"}}, {"内容": TICKET_B, "标签": ["急"]}]
    (tmp_path / "t.jsonl").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    rows, header = read_table(tmp_path / "t.jsonl")
    assert header == ["内容", "诉求人", "标签"] and len(rows) == 2
    write_table(rows, header, tmp_path / "o.xlsx")  # a dict cell is written as JSON text, not refused
    sheet = load_workbook(tmp_path / "o.xlsx").active
    assert json.loads(sheet["B2"].value) == {"姓名": "陈先生", "电话": "138"} and sheet["C3"].value == "急"


def test_text_column_guessed_from_the_wordiest_column():
    header = ["编号", "回复内容", "群众诉求（必填）"]
    with pytest.raises(TableError, match="群众诉求"):  # no known name, and no rows to guess from
        find_text_column(header)
    rows = [{"编号": "1", "回复内容": "已转物业处理，请耐心等待答复", "群众诉求（必填）": TICKET_A + "，已经三天了"}]
    notes = []
    assert find_text_column(header, "text", rows, notes) == "群众诉求（必填）" and notes
    assert find_text_column(["编号", "诉求内容（详细）"]) == "诉求内容（详细）"
    assert find_text_column(["编号", "诉求\n内容"], "诉求内容") == "诉求\n内容"


def test_a_failed_write_leaves_no_file(tmp_path):
    class Boom:
        def __str__(self):
            raise ValueError("no")

    with pytest.raises(TableError):
        write_table([{"内容": TICKET_A}, {"内容": Boom()}], ["内容"], tmp_path / "o.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path, monkeypatch):
    book = Workbook()
    for i in range(2000):
        book.active.append(["内容", "楼道灯坏了" * 5, i])
    book.save(tmp_path / "big.xlsx")
    assert read_table(tmp_path / "big.xlsx")[0]  # fine under the real limit
    monkeypatch.setattr("triage._sheets.MAX_UNPACKED_BYTES", 10_000)  # pretend it unpacks too far
    with pytest.raises(TableError, match="解压后太大"):  # too big, not "damaged"
        read_table(tmp_path / "big.xlsx")


HEAD = "工单编号,来电时间,诉求内容,办结时限\n"


@pytest.mark.parametrize("body", [
    # the quote opened in GD1's text is never closed: GD2 would end up inside GD1's text
    'GD1,2026/11/3 14:05,"来电人反映：1号楼电梯坏了三天,2026/11/10\nGD2,2026/11/4 09:00,来电人反映：2号楼停水,2026/11/11\n'
    "GD3,2026/11/4 10:00,来电人反映：3号楼路灯不亮,2026/11/12\n",
    # the same quote running to the end of the file
    'GD1,2026/11/3 14:05,来电人反映：1号楼电梯坏了三天,2026/11/10\nGD2,2026/11/4 09:00,"来电人反映：2号楼停水,2026/11/11\n'
    "GD3,2026/11/4 10:00,来电人反映：3号楼路灯不亮,2026/11/12\n",
])
def test_an_unclosed_quote_is_refused_not_a_ticket_lost(tmp_path, body):
    (tmp_path / "q.csv").write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(TableError, match="引号没有配对") as caught:
        read_table(tmp_path / "q.csv")
    assert re.search(r"第 [23] 行", str(caught.value))


def test_a_line_break_inside_a_quoted_cell_is_still_one_ticket(tmp_path):
    (tmp_path / "ok.csv").write_text(HEAD + 'GD1,2026/11/3 14:05,"来电人反映：1号楼电梯\n坏了三天, 没人修",2026/11/10\n'
                                     "GD2,2026/11/4 09:00,来电人反映：2号楼停水,2026/11/11\n", encoding="utf-8")
    rows, _ = read_table(tmp_path / "ok.csv")
    assert [r["工单编号"] for r in rows] == ["GD1", "GD2"] and "\n坏了三天" in rows[0]["诉求内容"]


def test_a_file_cut_in_the_middle_of_a_character_says_so(tmp_path):
    raw = "工单编号,诉求内容\nA1,小区电梯坏了\nA2,门口垃圾没人清理".encode("gbk")
    (tmp_path / "cut.csv").write_bytes(raw[:-1])
    with pytest.raises(TableError, match="截断"):
        read_table(tmp_path / "cut.csv")


def test_every_sheet_with_tickets_is_read(tmp_path):
    book = Workbook()
    book.active.title = "说明"
    book.active["A1"] = "本表为12345工单导出"
    for name, refs in (("11月上半月", ["GD1", "GD2", "GD3"]), ("11月下半月", ["GD4", "GD5"])):
        sheet = book.create_sheet(name)
        sheet.append(["工单编号", "诉求内容"] + (["来电人"] if name.endswith("下半月") else []))
        for ref in refs:
            sheet.append([ref, f"来电人反映：{ref}所在楼电梯坏了"] + (["王先生"] if name.endswith("下半月") else []))
    book.save(tmp_path / "two.xlsx")
    notes = []
    rows, header = read_table(tmp_path / "two.xlsx", notes=notes)
    assert [r["工单编号"] for r in rows] == ["GD1", "GD2", "GD3", "GD4", "GD5"]
    assert header == ["工作表", "工单编号", "诉求内容", "来电人"]
    assert rows[0]["工作表"] == "11月上半月" and rows[0]["来电人"] == "" and rows[4]["来电人"] == "王先生"
    assert any("2 个工作表" in n and "“11月下半月”2 行" in n for n in notes)


def test_legitimate_multi_line_cells_are_not_taken_for_broken_quotes(tmp_path):
    import csv

    with open(tmp_path / "py.csv", "w", encoding="utf-8", newline="") as f:  # quoted as Excel quotes
        w = csv.writer(f)
        w.writerow(["编号", "诉求内容", "电话"])
        w.writerow(["1", "1、楼道灯坏了\n2、电梯异响,门关不上,已报修三次", "138"])
        w.writerow(["2", "地址\n幸福小区,3号楼,2单元,401", "139"])
    rows, _ = read_table(tmp_path / "py.csv")
    assert [r["编号"] for r in rows] == ["1", "2"]
    # two columns, and a quote that closes somewhere later: still caught
    (tmp_path / "two.csv").write_text('编号,诉求内容\n1,"楼道灯坏了\n2,垃圾没清\n3,噪音\n', encoding="utf-8")
    with pytest.raises(TableError, match="引号没有配对"):
        read_table(tmp_path / "two.csv")
    (tmp_path / "late.csv").write_text('编号,诉求内容,电话\n1,"楼道灯坏了,138\n2,"垃圾没清",139\n3,噪音,137\n',
                                       encoding="utf-8")
    with pytest.raises(TableError, match="引号没有配对"):
        read_table(tmp_path / "late.csv")


def test_a_utf8_file_cut_short_is_not_read_as_gbk(tmp_path):
    raw = "工单编号,诉求内容\nA1,小区电梯坏了\nA2,门口垃圾没人清理".encode("utf-8")
    (tmp_path / "cut.csv").write_bytes(raw[:-2])
    with pytest.raises(TableError, match="截断"):
        read_table(tmp_path / "cut.csv")


def test_sheets_naming_their_columns_differently_and_a_summary_sheet(tmp_path):
    book = Workbook()
    book.active.title = "A"
    book.active.append(["工单编号", "诉求内容", "受理时间"])
    book.active.append(["GD1", "来电人反映：3号楼电梯坏了三天没人修", "2026-11-03 10:00"])
    sheet = book.create_sheet("B")
    sheet.append(["工单编号", "来电内容", "来电时间", "工作表"])
    sheet.append(["GD2", "来电人反映：5号楼楼道灯坏了一个月了", "2026-11-04 10:00", "x"])
    summary = book.create_sheet("汇总")
    summary.append(["问题分类", "问题内容", "件数"])
    summary.append(["设施", "电梯故障", 3])
    book.save(tmp_path / "m.xlsx")
    notes = []
    rows, header = read_table(tmp_path / "m.xlsx", notes=notes)
    assert header == ["工作表_2", "工单编号", "诉求内容", "受理时间", "工作表"]
    assert [(r["工作表_2"], r["诉求内容"][-6:], r["受理时间"]) for r in rows] == [
        ("A", "了三天没人修", "2026-11-03 10:00"), ("B", "坏了一个月了", "2026-11-04 10:00")]
    assert any("汇总" in n and "未读取" in n for n in notes)


# ---------- defects from the file-reading audit ----------

@pytest.mark.parametrize("text", [
    # the audit's file: the text comes first, and its quote opened on the first row is never closed
    ('诉求内容,工单编号\n"3号楼电梯坏了三天了没人修,GD20261101001\n小区门口垃圾堆满了没人清,GD20261101002\n'
     "楼道灯坏了一个星期,GD20261101003\n"),
    # one column only: no delimiter at all inside the swallowed lines
    '内容\n"电梯坏了三天了\n楼道灯坏了一个星期\n门口垃圾没人清\n',
    # the text first, and a quote further down closes it: the swallowed lines end like ticket rows
    '诉求内容,工单编号\n"3号楼电梯坏了,GD20261101001\n小区门口垃圾,GD20261101002\n"楼道灯坏了",GD20261101003\n',
])
def test_an_unclosed_quote_in_the_first_column_of_the_first_row_is_refused(tmp_path, text):
    (tmp_path / "q.csv").write_text(text, encoding="utf-8")
    with pytest.raises(TableError, match="第 2 行有一个引号没有配对"):
        read_table(tmp_path / "q.csv")


def test_a_first_column_text_with_a_line_break_and_commas_is_not_refused(tmp_path):
    (tmp_path / "ok.csv").write_text('诉求内容,电话\n"我是3号楼的住户\n请回电,13800000000",13900000000\n'
                                     '楼道灯坏了,13700000000\n"最后一件\n没写完"\n', encoding="utf-8")
    rows, _ = read_table(tmp_path / "ok.csv")
    assert [r["电话"] for r in rows] == ["13900000000", "13700000000", ""]


TRADITIONAL = "三號樓電梯壞了三天了沒人修"


@pytest.mark.parametrize("raw", [
    f"編號,內容\n1,{TRADITIONAL}\n2,社區門口垃圾堆滿了\n".encode("big5"),  # Taiwan / Hong Kong software
    f"編號,內容\n1,{TRADITIONAL}\n2,社區門口垃圾堆滿了\n".encode("gbk"),  # traditional characters typed in GBK
])
def test_traditional_characters_in_big5_or_gbk_are_read_not_garbled(raw):
    assert decode_bytes(raw).splitlines()[1] == f"1,{TRADITIONAL}"


def test_a_file_mixing_utf8_and_gbk_lines_is_read_line_by_line(tmp_path):
    raw = f"编号,内容\n1,{TICKET_A}\n".encode() + f"2,{TICKET_B}\n".encode("gbk")
    (tmp_path / "mixed.csv").write_bytes(raw)
    rows, _ = read_table(tmp_path / "mixed.csv")
    assert [r["内容"] for r in rows] == [TICKET_A, TICKET_B]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_not_called_binary(tmp_path, encoding):
    (tmp_path / "t.csv").write_bytes(f"编号\t问题描述\n1\t{TICKET_A}\n2\t{TICKET_B}\n".encode(encoding))
    rows, _ = read_table(tmp_path / "t.csv")
    assert [r["问题描述"] for r in rows] == [TICKET_A, TICKET_B]


def test_bytes_that_are_no_chinese_in_any_encoding_are_refused():
    raw = "编号,内容\n1,".encode() + TRADITIONAL.encode("big5") + b"\n2," + TICKET_A.encode("gbk")
    with pytest.raises(TableError, match="编码无法识别.*另存为 UTF-8"):
        decode_bytes(raw, "t.csv")
    with pytest.raises(TableError, match="编码无法识别"):  # Shift-JIS: valid GB18030 bytes, but kana and rare characters
        decode_bytes("番号,内容\n1,エレベーターが故障しています\n".encode("shift_jis"), "t.csv")


def test_header_cells_are_guarded_like_data_cells(tmp_path):
    columns = ['=HYPERLINK("http://evil","点我")', "+SUM(1)", "-2", "@SUM(A1)", "内容\x01\x1f"]
    rows = [dict.fromkeys(columns, "=1+1")]
    write_table(rows, columns, tmp_path / "o.csv")
    header = (tmp_path / "o.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("\"'=HYPERLINK(") and ",'+SUM(1),'-2,'@SUM(A1)," in header
    write_table(rows, columns, tmp_path / "o.xlsx")  # a control character is dropped, not IllegalCharacterError
    sheet = load_workbook(tmp_path / "o.xlsx").active
    assert [c.value for c in sheet[1]] == columns[:4] + ["内容"]
    assert all(c.data_type == "s" for c in sheet[1])
    with zipfile.ZipFile(tmp_path / "o.xlsx") as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def _patched_workbook(path, old: bytes, new: bytes, part="xl/worksheets/sheet1.xml"):
    book = Workbook()
    book.active.append(["内容"])
    book.active.append([TICKET_A])
    raw = io.BytesIO()
    book.save(raw)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data.replace(old, new, 1) if info.filename == part else data)


@pytest.mark.parametrize("old, new", [
    (b"</sheetData>", b"</sheetData><!--" + b" " * 100_000 + b"-->"),  # expat: quadratic in a comment's length
    (b"</sheetData>", b"</sheetData><?x " + b"-" * 100_000 + b"?>"),  # ...an instruction's
    (b"<sheetData>", b"<sheetData" + b" " * 300_000 + b">"),  # ...or a tag's
    (b"<sheetData>", b'<!DOCTYPE x [<!ENTITY a "b">]><sheetData>'),
])
def test_xml_no_spreadsheet_program_writes_is_refused_before_parsing(tmp_path, old, new):
    _patched_workbook(tmp_path / "odd.xlsx", old, new)
    with pytest.raises(TableError, match="不是正常导出的 Excel 文件"):
        read_table(tmp_path / "odd.xlsx")


def test_a_short_comment_and_a_long_cell_are_still_read(tmp_path):
    _patched_workbook(tmp_path / "ok.xlsx", b"</sheetData>", b"</sheetData><!-- written by an export tool -->")
    assert read_table(tmp_path / "ok.xlsx")[0] == [{"内容": TICKET_A}]
    book = Workbook()
    book.active.append(["内容"])
    book.active.append(["电梯" * 16_000])  # 32,000 characters: Excel's most, 96 KB between two "<"
    book.save(tmp_path / "long.xlsx")
    assert len(read_table(tmp_path / "long.xlsx")[0][0]["内容"]) == 32_000


def _row_bomb(rows: int) -> bytes:
    """A workbook of `rows` one-letter rows, a few KB packed, as the audit built one of a million."""
    book = Workbook()
    book.active.append(["text"])
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row><c t="inlineStr"><is><t>a</t></is></c></row>' * rows
                                    + b"</sheetData>")
            dst.writestr(info, data)
    return out.getvalue()


def test_too_many_rows_stop_the_reading_and_say_so(tmp_path, monkeypatch):
    import triage._sheets

    raw = _row_bomb(3000)
    read = []
    real_value = triage._sheets._value
    monkeypatch.setattr(triage._sheets, "_value", lambda cell: read.append(1) or real_value(cell))
    with pytest.raises(TooManyRowsError, match="行数太多：超过了 100 行的上限"):
        read_table("rows.xlsx", raw, max_rows=100)
    assert len(read) < 200  # stopped soon after the limit, not after 3,000 rows
    monkeypatch.setenv("TRIAGE_MAX_UPLOAD_ROWS", "1000")  # uploaded bytes are held to the service's limit
    with pytest.raises(TooManyRowsError, match="超过了 1000 行的上限"):
        read_table("rows.xlsx", raw)
    (tmp_path / "rows.xlsx").write_bytes(raw)  # a file on disk (the command line) is read whole
    assert len(read_table(tmp_path / "rows.xlsx")[0]) == 3000
    (tmp_path / "rows.csv").write_text("text\n" + "a\n" * 1001, encoding="utf-8")
    with pytest.raises(TooManyRowsError):
        read_table("rows.csv", (tmp_path / "rows.csv").read_bytes())


def test_a_sheet_spanning_the_whole_grid_is_read_row_by_row(tmp_path):
    book = Workbook()
    book.active.append(["内容"])
    book.active.append([TICKET_A])
    book.active.cell(200_000, 16_384, "x")  # in full mode openpyxl would make 3 billion cells
    book.save(tmp_path / "span.xlsx")
    rows, _ = read_table(tmp_path / "span.xlsx")
    assert rows[0]["内容"] == TICKET_A


def test_rows_made_wide_by_one_empty_cell_far_right_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("triage._sheets._MAX_CELLS", 1_000_000)  # 20 million in earnest
    _patched_workbook(tmp_path / "wide.xlsx", b"</sheetData>", b'<row><c r="XFD1"/></row>' * 100 + b"</sheetData>")
    with pytest.raises(TableError, match="解压后太大"):  # each such row is 16,384 cells when streamed
        read_table("wide.xlsx", (tmp_path / "wide.xlsx").read_bytes(), max_rows=10)


def test_thousands_of_repeated_column_names_stay_distinct():
    from triage.tables import _names

    names = _names(["a"] * 4000 + ["a_2", None])  # was cubic: 4,000 columns took 68 s
    assert len(set(names)) == 4002 and names[:3] == ["a", "a_2", "a_3"] and names[-2:] == ["a_2_2", "列4002"]


def test_the_delimiter_sniffer_sees_a_bounded_sample(tmp_path, monkeypatch):
    import csv

    seen = []
    real_sniff = csv.Sniffer.sniff
    monkeypatch.setattr(csv.Sniffer, "sniff", lambda self, sample, delimiters=None: seen.append(len(sample))
                        or real_sniff(self, sample, delimiters))
    (tmp_path / "s.csv").write_text("a" + '"b,' * 3000 + "\n" + "内容,编号\n" * 5, encoding="utf-8")
    with pytest.raises(TableError):
        read_table(tmp_path / "s.csv")
    assert seen and max(seen) <= 4096


@pytest.mark.parametrize("name, data, words", [
    ("deep.json", b"[" * 200_000 + b"]" * 200_000, "嵌套太深"),
    ("deep.jsonl", b'{"text": ' + b"[" * 200_000 + b"]" * 200_000 + b"}\n", "第 1 行嵌套太深"),
    ("deep2.jsonl", b'{"text": "ok"}\n{"text": ' + b"[" * 500 + b"]" * 500 + b"}\n", "第 2 行嵌套太深"),
    ("big.jsonl", '{"text": "电梯坏了", "n": '.encode() + b"1" * 5000 + b"}\n", "长达几千位的数字"),
])
def test_json_python_cannot_hold_is_one_sentence(name, data, words):
    with pytest.raises(TableError, match=words):
        read_table(name, data)


def test_jsonl_strings_may_hold_unicode_line_separators():
    rows, _ = read_table("t.jsonl", '{"text": "电梯坏了\u2028三天了"}\n'.encode("utf-8"))
    assert rows == [{"text": "电梯坏了\u2028三天了"}]


def test_a_link_pipe_or_device_given_as_output_is_written_not_replaced(tmp_path):
    import os
    import stat
    import threading

    rows = [{"内容": TICKET_A}]
    (tmp_path / "target.csv").write_text("old", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(tmp_path / "target.csv")
    write_table(rows, ["内容"], tmp_path / "link.csv")
    assert (tmp_path / "link.csv").is_symlink() and TICKET_A in (tmp_path / "target.csv").read_text(encoding="utf-8-sig")
    os.mkfifo(tmp_path / "pipe.csv")
    got = []
    reader = threading.Thread(target=lambda: got.append((tmp_path / "pipe.csv").read_bytes()))
    reader.start()
    write_table(rows, ["内容"], tmp_path / "pipe.csv")
    reader.join(timeout=10)
    assert TICKET_A in got[0].decode("utf-8-sig") and stat.S_ISFIFO(os.lstat(tmp_path / "pipe.csv").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "pipe.csv", "target.csv"]  # no .part left


@pytest.mark.skipif(not Path("/dev/full").is_char_device(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_device_that_cannot_take_the_output_is_one_sentence(tmp_path, fmt):
    # through a link in tmp_path: were the device replaced by a file, only the link would be
    (tmp_path / f"full.{fmt}").symlink_to("/dev/full")
    with pytest.raises(TableError, match="无法写入.*磁盘已满"):
        write_table([{"内容": TICKET_A}] * 1000, ["内容"], tmp_path / f"full.{fmt}")
    assert (tmp_path / f"full.{fmt}").is_symlink() and Path("/dev/full").is_char_device()


def test_full_width_letters_in_a_gbk_file_are_not_taken_for_garbage():
    """A review found a GBK file with "ＷＩＦＩ坏了" refused as an unknown encoding."""
    raw = "内容\n5号楼的ＷＩＦＩ坏了，物业说不归他们管\n３号楼电梯停了\n".encode("gbk")
    rows, _ = read_table("t.csv", raw)
    assert [r["内容"][:6] for r in rows] == ["5号楼的ＷＩ", "３号楼电梯停"]


def test_the_row_limit_counts_each_sheet_not_the_workbook():
    """A ticket sheet under the limit beside a 字典 sheet is read; one sheet over the limit stops the reading."""
    book = Workbook()
    book.active.title = "工单"
    book.active.append(["内容"])
    for i in range(80):
        book.active.append([f"{i}号楼电梯坏了，老人下不了楼"])
    codes = book.create_sheet("字典")
    for i in range(80):
        codes.append([f"代码{i}", f"类别{i}"])
    raw = io.BytesIO()
    book.save(raw)
    rows, _ = read_table("t.xlsx", raw.getvalue(), max_rows=100)
    assert len(rows) == 80


def test_a_two_row_header_is_read_as_one():
    """A hand-kept ledger with group headings over the column names (a director's second trial: the lower row
    became a ticket, the columns 列3, 列4 …)."""
    book = Workbook()
    ws = book.active
    ws.append(["幸福里社区问题台账"])
    ws.append(["序号", "群众反映情况", None, None, "办理情况", None, "回访情况"])
    ws.append([None, "反映日期", "反映人", "问题内容", "责任单位", "是否办结", None])
    ws.append([1, "2026-05-06", "张桂兰", "12号楼2单元楼道灯坏了半个月", "物业公司", "是", "满意"])
    for cells in ("A2:A3", "B2:D2", "E2:F2", "G2:G3"):
        ws.merge_cells(cells)
    raw = io.BytesIO()
    book.save(raw)
    notes: list[str] = []
    rows, header = read_table("t.xlsx", raw.getvalue(), notes)
    assert header[:6] == ["序号", "反映日期", "反映人", "问题内容", "责任单位", "是否办结"]
    assert len(rows) == 1 and rows[0]["问题内容"].startswith("12号楼") and any("两行" in n for n in notes)


def test_a_tagged_workbook_is_readable_as_it_opens(tmp_path):
    """From the 街道 desk trial: every column 13 wide showed dates as ### and cut the tickets off."""
    import datetime as dt

    rows = [{"来电时间": dt.datetime(2026, 11, 16, 9, 5), "诉求内容": "来电人反映" + "小区东门路灯不亮，晚上很黑" * 4, "类别": "公共设施"}]
    write_table(rows, ["来电时间", "诉求内容", "类别"], tmp_path / "out.xlsx")
    sheet = load_workbook(tmp_path / "out.xlsx").active
    widths = [sheet.column_dimensions[c].width for c in "ABC"]
    assert widths[0] >= 17 and widths[1] == 50 and 8 <= widths[2] < 20
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:C2"
    assert sheet["A1"].font.bold and sheet["B2"].alignment.wrap_text


def test_a_ticket_row_that_starts_with_a_footer_word_is_kept(tmp_path):
    """From a review: "说明：…" or "联系人：…" in a ticket's own cell is a ticket, not the sheet's footer."""
    (tmp_path / "f.csv").write_text("诉求内容,来电时间\n说明：3号楼楼上每天半夜装修,2026-11-20 10:00\n"
                                    "联系人：王女士，反映5号楼电梯经常停运,2026-11-20 11:00\n制表：幸福街道,\n", encoding="utf-8")
    rows, _ = read_table(tmp_path / "f.csv")
    assert [r["诉求内容"][:2] for r in rows] == ["说明", "联系"]
