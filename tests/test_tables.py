import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from triage.tables import TableError, decode_bytes, find_text_column, read_table, write_table

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
    ("old.xls", b"whatever", "不支持"),
    ("bad.jsonl", b'{"text": "ok"}\n{not json}\n', "第 2 行"),
    ("list.jsonl", b'["a"]\n', "JSON 对象"),
    ("wide.csv", "内容\n电梯坏了,多出来,一列\n".encode(), "列数"),
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
    assert sheet["A2"].value == "'=1+1 电梯坏" and sheet["B2"].value == "a、b"
    write_table(rows, ["内容", "tags"], tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM so Excel reads UTF-8
    buf = io.StringIO()
    write_table(rows, ["内容", "tags"], buf, "jsonl")
    assert json.loads(buf.getvalue())["tags"] == ["a", "b"]


def test_decode_prefers_utf8_then_gbk():
    assert decode_bytes("电梯".encode("gbk")) == "电梯"
    assert decode_bytes("\ufeff电梯".encode("utf-8")) == "电梯"


def test_control_characters_do_not_break_excel(tmp_path):
    write_table([{"内容": "电梯\x01坏了\x1f"}], ["内容"], tmp_path / "c.xlsx")
    assert load_workbook(tmp_path / "c.xlsx").active["A2"].value == "电梯坏了"
