"""The `triage` command end to end on small files (in-process, so it stays fast)."""

import datetime as dt
import json

import pytest
from openpyxl import load_workbook

from triage.cli import build_parser, main

RECEIVED = "2026-11-25T09:30:00+08:00"
TICKETS = [
    "来电人反映：幸福小区7号楼楼道里有人飞线充电，电线从三楼窗户吊下来，很危险。",
    "市民来电称：小区东门的路灯坏了半个月，晚上漆黑一片，请尽快维修。",
    "我想问一下社区几点上班，需要开居住证明。",
]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description or sub._choices_actions, name
        for action in p._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.dest} has no help"


@pytest.mark.parametrize("when", ["2026/11/25 9:30", "2026年11月25日 9:30", "2026-11-25 09:30"])
def test_received_at_takes_the_forms_exports_use(capsys, when):
    code, out, _ = run(capsys, "classify", TICKETS[0], "--received-at", when)
    assert code == 0 and json.loads(out)["deadline"] == "2026-11-26T09:30:00+08:00"  # urgent: 24 h from then


def test_classify_prints_one_json_result(capsys):
    code, out, _ = run(capsys, "classify", TICKETS[0], "--received-at", RECEIVED)
    result = json.loads(out)
    assert code == 0
    assert result["category"] == "charging" and result["urgent"] is True
    assert result["deadline"] == "2026-11-26T09:30:00+08:00"
    assert "消防救援机构" in result["co_owners"]
    assert result["explanation"]


def test_classify_empty_text_is_a_clear_error(capsys):
    code, _, err = run(capsys, "classify", "   ")
    assert code == 2 and "文本为空" in err


def test_tag_csv_gbk_to_xlsx(tmp_path, capsys):
    src = tmp_path / "工单.csv"
    src.write_bytes(("编号,诉求内容\n" + "".join(f"{i},{t}\n" for i, t in enumerate(TICKETS, 1))).encode("gbk"))
    out = tmp_path / "结果.xlsx"
    code, _, err = run(capsys, "tag", str(src), "-o", str(out), "--received-at", RECEIVED)
    assert code == 0 and "已完成 3 条" in err
    sheet = load_workbook(out).active
    header = [c.value for c in sheet[1]]
    for field in ("编号", "诉求内容", "category", "category_name", "secondary", "confidence", "needs_review",
                  "urgent", "owner", "co_owners", "deadline", "explanation"):
        assert field in header
    rows = [dict(zip(header, [c.value for c in r])) for r in sheet.iter_rows(min_row=2)]
    assert [r["category"] for r in rows] == ["charging", "facilities", "other"]
    assert rows[1]["deadline"].startswith("2026-12-02T18:00:00+08:00")


def test_tag_jsonl_to_stdout_uses_received_at_column(tmp_path, capsys):
    src = tmp_path / "t.jsonl"
    src.write_text(json.dumps({"text": TICKETS[1], "received_at": "2026-09-29T10:00:00+08:00"}, ensure_ascii=False)
                   + "\n" + json.dumps({"text": ""}) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "tag", str(src))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 2
    assert rows[0]["deadline"] == "2026-10-12T18:00:00+08:00"  # across the National Day holiday
    assert rows[1]["needs_review"] is True  # a blank row is kept and flagged, not dropped


BAD = [
    (["tag", "MISSING.csv"], "找不到文件"),
    (["tag", "{empty}"], "空文件"),
    (["tag", "{csv}", "--column", "正文"], "找不到文本列"),
    (["tag", "{csv}", "-o", "out.pdf"], "不支持的输出格式"),
    (["evaluate", "--data", "MISSING.jsonl"], "找不到训练数据文件"),
    (["classify", "电梯坏了", "--model", "{tmp}"], "找不到模型"),
    (["classify", "电梯坏了", "--received-at", "昨天"], "时间格式"),
]


@pytest.mark.parametrize("argv, words", BAD)
def test_bad_input_exits_non_zero_with_one_sentence(tmp_path, capsys, argv, words):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "t.csv").write_text("内容\n电梯坏了\n", encoding="utf-8")
    subst = {"{empty}": str(tmp_path / "empty.csv"), "{csv}": str(tmp_path / "t.csv"), "{tmp}": str(tmp_path)}
    argv = [subst.get(a, a) for a in argv]
    try:
        code, _, err = run(capsys, *argv)
    except SystemExit as e:
        code, err = 2, str(e.code)
    assert code != 0 and words in err
    assert "Traceback" not in err


def test_extract_formats(tmp_path, capsys):
    notes = tmp_path / "纪要.txt"
    notes.write_bytes("王阿姨（8号楼）：8号楼电梯这个月坏了三次，老人上下楼太难了。\n刘经理：明天就安排维保单位来修。\n".encode("gbk"))
    code, out, _ = run(capsys, "extract", str(notes), "--received-at", RECEIVED)
    issues = json.loads(out)
    assert code == 0 and len(issues) == 1
    assert issues[0]["category"] == "facilities" and issues[0]["location"] == "8号楼"
    assert "明天" in issues[0]["response"]
    code, out, _ = run(capsys, "extract", str(notes), "--format", "markdown", "--received-at", RECEIVED)
    assert out.startswith("| 序号 |") and "8号楼" in out
    xlsx = tmp_path / "台账.xlsx"
    code, _, _ = run(capsys, "extract", str(notes), "--format", "xlsx", "-o", str(xlsx), "--received-at", RECEIVED)
    sheet = load_workbook(xlsx).active
    assert [c.value for c in sheet[1]] == ["序号", "问题内容", "类别", "责任主体", "办理时限", "紧急程度", "地点",
                                           "提出人", "原话", "办理情况"]
    assert sheet["C2"].value.startswith("公共设施")


def test_extract_reads_a_word_file(tmp_path, capsys):
    from docx import Document

    doc = Document()
    doc.add_paragraph("王阿姨（8号楼）：8号楼电梯这个月坏了三次，老人上下楼太难了。")
    table = doc.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "序号", (0, 1): "居民反映问题", (1, 0): "1", (1, 1): "东门路灯不亮，晚上黑漆漆的"}.items():
        table.cell(r, c).text = text
    doc.save(tmp_path / "纪要.docx")
    code, out, _ = run(capsys, "extract", str(tmp_path / "纪要.docx"), "--received-at", RECEIVED)
    assert code == 0 and [i["category"] for i in json.loads(out)] == ["facilities", "facilities"]
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    assert main(["extract", str(tmp_path / "old.doc")]) == 2
    assert "另存为" in capsys.readouterr().err


def test_train_and_evaluate_with_another_taxonomy(tmp_path, capsys):
    """A 12345 centre's own categories: Chinese names as labels, its own TOML, same commands."""
    from .conftest import ROOT

    rows = []
    for i in range(40):
        rows.append({"text": f"第{i}号路段路灯不亮，道路坑洼，请住建部门修复", "label": "城乡建设"})
        rows.append({"text": f"单位拖欠第{i}个月工资，社保也没有缴纳", "label": "劳动和社会保障"})
        rows.append({"text": f"第{i}中学附近的培训班乱收费，学生课业负担重", "label": "教育文体"})
    data = tmp_path / "centre.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    toml = tmp_path / "centre.toml"
    toml.write_text((ROOT / "bench" / "teddy2020c.toml").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "model"
    assert main(["train", "--taxonomy", str(toml), "--data", str(data), "--out", str(out), "--cv", "0",
                 "--holdout", "0", "--quiet"]) == 2  # four of its seven categories have no examples
    assert "缺少类别" in capsys.readouterr().err
    lines = toml.read_text(encoding="utf-8").split("[[category]]")
    keep = [b for b in lines[1:] if any(n in b for n in ("城乡建设", "劳动和社会保障", "教育文体"))]
    toml.write_text(lines[0] + "".join("[[category]]" + b for b in keep), encoding="utf-8")
    assert main(["train", "--taxonomy", str(toml), "--data", str(data), "--out", str(out), "--cv", "0",
                 "--holdout", "0", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["classify", "小区门口的马路坑洼不平，路灯也不亮", "--model", str(out), "--taxonomy", str(toml),
                 "--compact"]) == 0
    assert json.loads(capsys.readouterr().out)["category_name"] == "城乡建设"
    assert main(["evaluate", "--data", str(data), "--model", str(out), "--taxonomy", str(toml), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] > 0.9


def test_two_category_taxonomy_works_too(tmp_path, capsys):
    toml = tmp_path / "two.toml"
    toml.write_text("[[category]]\ncode='road'\nname='道路'\nowner='市政'\n"
                    "[[category]]\ncode='noise'\nname='噪音'\nowner='城管'\n", encoding="utf-8")
    data = tmp_path / "two.jsonl"
    rows = [{"text": f"第{i}段马路坑洼积水", "label": "road"} for i in range(20)]
    rows += [{"text": f"第{i}家饭店夜里吵闹到凌晨", "label": "noise"} for i in range(20)]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "m"
    assert main(["train", "--taxonomy", str(toml), "--data", str(data), "--out", str(out), "--cv", "0", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["classify", "马路上有个大坑", "--model", str(out), "--taxonomy", str(toml), "--compact"]) == 0
    assert json.loads(capsys.readouterr().out)["category"] == "road"


def test_tag_uses_a_chinese_received_time_column(tmp_path, capsys):
    src = tmp_path / "t.csv"
    src.write_text("编号,受理时间,诉求内容\n1,2026-09-29 10:00,东门车棚顶棚漏雨，电动车都淋湿了\n", encoding="utf-8")
    assert main(["tag", str(src)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["deadline"] == "2026-10-12T18:00:00+08:00"  # 5 working days across National Day


def test_extract_counts_from_the_meeting_day_in_the_communitys_timezone(tmp_path, capsys, monkeypatch):
    import time
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("TZ", "UTC")  # a server clock in UTC must not move 09:00 Beijing time
    time.tzset()
    try:
        day = dt.datetime.now(ZoneInfo("Asia/Shanghai")) - dt.timedelta(days=1)
        notes = tmp_path / "记录.txt"
        notes.write_text(f"板凳会记录（{day.month}月{day.day}日）\n张大爷（3号楼）：3号楼消防通道被电动车堵死了。\n",
                         encoding="utf-8")
        code, out, _ = run(capsys, "extract", str(notes))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    issue = json.loads(out)[0] if out.lstrip().startswith("[") else json.loads(out.splitlines()[0])
    assert code == 0 and issue["urgent"] and issue["deadline"].endswith("T09:00:00+08:00"), issue["deadline"]


def test_command_line_errors_are_chinese_and_exit_2(tmp_path, capsys):
    assert run(capsys, "classify", "")[0] == 2
    bad = tmp_path / "lab.jsonl"
    bad.write_text("oops\n", encoding="utf-8")
    code, _, err = run(capsys, "evaluate", "--data", str(bad))
    assert code == 2 and "JSONL" in err and "Expecting" not in err
    tickets = tmp_path / "t.csv"
    tickets.write_text("序号,居民意见\n1,3号楼电梯坏了两天老人下不了楼\n", encoding="utf-8")
    code, _, err = run(capsys, "tag", str(tickets), "-o", str(tmp_path / "nope" / "out.csv"))
    assert code == 2 and "文件夹不存在" in err and "No such file" not in err


def test_tag_guesses_a_column_of_residents_opinions(tmp_path, capsys):
    tickets = tmp_path / "t.csv"
    tickets.write_text("序号,居民意见,街道\n1,3号楼电梯坏了两天老人下不了楼,和平街\n", encoding="utf-8")
    code, out, err = run(capsys, "tag", str(tickets))
    assert code == 0 and "居民意见" in err and json.loads(out.splitlines()[0])["category"] == "facilities"


def test_evaluate_reads_a_csv_with_chinese_labels(tmp_path, capsys):
    data = tmp_path / "lab.csv"
    data.write_text("text,label\n3号楼电梯坏了两天,公共设施\n楼下的狗天天叫,宠物管理\n", encoding="utf-8")
    code, out, _ = run(capsys, "evaluate", "--data", str(data), "--json")
    assert code == 0 and json.loads(out)["n"] == 2


def test_token_create_list_and_revoke(tmp_path, capsys):
    data = str(tmp_path / "data")
    code, out, _ = run(capsys, "token", "create", "--role", "staff", "--name", "钱网格员", "--data-dir", data)
    assert code == 0 and out.strip().startswith("tri_")
    code, out, _ = run(capsys, "token", "list", "--data-dir", data)
    token_id = next(line.split("\t")[0] for line in out.splitlines() if "钱网格员" in line)
    code, out, _ = run(capsys, "token", "revoke", token_id, "--data-dir", data)
    assert code == 0 and "已停用" in out
    code, out, _ = run(capsys, "token", "list", "--data-dir", data)
    assert "已停用" in next(line for line in out.splitlines() if "钱网格员" in line)
    assert run(capsys, "token", "revoke", "--data-dir", data)[0] == 2
    code, out, err = run(capsys, "token", "create", "--name", "孙网格员", "--community", "东湖社区", "--data-dir", data)
    assert code == 0 and "所属社区：东湖社区" in err
    code, out, _ = run(capsys, "token", "list", "--data-dir", data)
    assert "东湖社区" in next(line for line in out.splitlines() if "孙网格员" in line)


def test_backup_copies_the_ledger_while_it_is_open(tmp_path, capsys):
    """From the admin trial: there was no backup; copying a live SQLite file can catch it mid-write."""
    import sqlite3
    import stat

    from service.store import Store

    data = tmp_path / "data"
    data.mkdir()
    with Store(data / "triage.db") as store:  # held open, as the running service holds it
        store.migrate()
        store.create_token("staff", "钱网格员")
        code, out, err = run(capsys, "backup", "--data-dir", str(data), "--to", str(tmp_path / "bk"))
    assert code == 0 and "已备份到" in out and "令牌 1 个" in out and "恢复" in err
    copy = tmp_path / "bk" / "triage.db"
    assert sqlite3.connect(copy).execute("SELECT name FROM tokens").fetchone()[0] == "钱网格员"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert run(capsys, "backup", "--data-dir", str(data), "--to", str(tmp_path / "bk"))[0] == 2  # never over one
    assert run(capsys, "backup", "--data-dir", str(tmp_path / "none"))[0] == 2


def test_argument_mistakes_are_said_in_chinese(capsys):
    """From the admin trial: `--role boss` answered in English."""
    with pytest.raises(SystemExit) as stop:
        main(["token", "create", "--role", "boss"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "参数 --role 的值“boss”不可用，可选：viewer、staff、admin" in err and "invalid" not in err
