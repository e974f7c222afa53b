"""Every endpoint through TestClient: auth, bad input, lifecycle, corrections, Open311, jobs."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from .conftest import wait_job as _wait

NOTES = """主持人（社区李书记）：各位街坊下午好，今天开个板凳会。
张大爷（3号楼）：3号楼门口的充电桩不够用，晚上回来抢不到，好多人只好把电瓶拎上楼充。
物业刘经理：充电桩的事我们跟运营公司谈好了，年底前再加二十个口。
王阿姨（8号楼）：8号楼的电梯这个月停了三次，我住十四楼，腿受不了。
主持人（社区李书记）：好，今天就到这里，谢谢大家。
"""
RECEIVED = "2026-11-25T09:30:00+08:00"


def test_health_and_docs_need_no_token(client):
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    assert "/api/classify" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("method, path", [("post", "/api/classify"), ("post", "/api/extract"), ("get", "/api/entries"),
                                          ("get", "/api/stats"), ("get", "/open311/v2/services.json")])
def test_no_token_is_401_in_chinese(client, method, path):
    r = getattr(client, method)(path, json={"text": "电梯坏了"}) if method == "post" else client.get(path)
    body = r.json()
    detail = body[0]["description"] if path.startswith("/open311/") else body["detail"]  # GeoReport v2 errors
    assert r.status_code == 401 and "令牌" in detail


def test_bad_token_and_weak_role(client):
    r = client.post("/api/classify", json={"text": "电梯坏了"}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    r = client.post("/api/classify", json={"text": "电梯坏了", "save": True}, headers=client.hdr("viewer"))
    assert r.status_code == 403 and "权限不足" in r.json()["detail"]
    r = client.get("/api/admin/model", headers=client.hdr("staff"))
    assert r.status_code == 403
    assert client.get("/api/admin/model", headers=client.hdr("admin")).json()["labels"]


def test_classify_and_save(client):
    r = client.post("/api/classify", json={"text": "小区东门的路灯坏了半个月，晚上漆黑一片", "received_at": RECEIVED,
                                           "save": True}, headers=client.hdr())
    body = r.json()
    assert r.status_code == 200 and body["category"] == "facilities" and body["entry_id"]
    assert body["deadline"] == "2026-12-02T18:00:00+08:00"
    entry = client.get(f"/api/entries/{body['entry_id']}", headers=client.hdr("viewer")).json()
    assert entry["status"] == "待派单" and entry["deadline"] == "2026-12-02T18:00:00+08:00"
    assert body["location"] == entry["location"] == "东门"


@pytest.mark.parametrize("payload, status, words", [
    ({"text": ""}, 400, "为空"),
    ({"text": "   \n "}, 400, "为空"),
    ({"text": "电梯" * 3000}, 413, "太长"),
    ({}, 422, "缺少必填项"),
    ({"text": "电梯坏了", "received_at": "昨天下午"}, 422, "时间格式"),
])
def test_classify_bad_input(client, payload, status, words):
    r = client.post("/api/classify", json=payload, headers=client.hdr())
    assert r.status_code == status and words in r.json()["detail"]


def test_not_json_body(client):
    r = client.post("/api/classify", content=b"\xff\xfe not json", headers={**client.hdr(), "Content-Type": "application/json"})
    assert r.status_code in (400, 422) and "请求" in r.json()["detail"]


def test_extract_then_save_then_list(client):
    r = client.post("/api/extract", json={"text": NOTES, "received_at": RECEIVED}, headers=client.hdr("viewer"))
    issues = r.json()["issues"]
    assert [i["category"] for i in issues] == ["charging", "facilities"]
    assert "年底" in issues[0]["response"] and "| 序号 |" in r.json()["markdown"]
    r = client.post("/api/entries", json={"issues": issues}, headers=client.hdr())
    assert r.status_code == 201 and len(r.json()) == 2
    listed = client.get("/api/entries", params={"category": "充电设施"}, headers=client.hdr("viewer")).json()
    assert listed["total"] == 1 and listed["items"][0]["location"] == "3号楼"
    assert client.get("/api/entries", params={"q": "十四楼"}, headers=client.hdr("viewer")).json()["total"] == 1
    assert client.get("/api/entries", params={"q": "%"}, headers=client.hdr("viewer")).json()["total"] == 0


def test_extract_without_a_date_answers_in_local_time(client):
    """From a director's trial: notes without a date got received_at in UTC ("…Z"), unlike every other time."""
    r = client.post("/api/extract", json={"text": NOTES}, headers=client.hdr("viewer"))
    assert r.status_code == 200 and r.json()["received_at"].endswith("+08:00")


def test_a_week_long_log_saves_each_finding_from_its_day(client, monkeypatch):
    """Pasted on Wednesday 25 November: the finding under 24号周二 counts its 时限 from the 24th, not the paste."""
    from service import routes_triage

    monkeypatch.setattr(routes_triage, "_now", lambda: dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.timezone.utc))
    text = "巡查日志\n23日（周一）\n5栋2单元楼道里有人拉飞线给电动车充电\n24号周二\n8栋东侧路灯不亮，黑了一个礼拜了\n"
    r = client.post("/api/extract", json={"text": text, "save": True}, headers=client.hdr())
    issues = {i["quotes"][0][:2]: i for i in r.json()["issues"]}
    saved = client.get(f"/api/entries/{issues['8栋']['entry_id']}", headers=client.hdr("viewer")).json()
    assert r.json()["received_at"].startswith("2026-11-23T09:00") and saved["received_at"].startswith("2026-11-24T09:00")


def test_extract_too_long_and_empty(client):
    assert client.post("/api/extract", json={"text": "字" * 100_001}, headers=client.hdr()).status_code == 413
    assert client.post("/api/extract", json={"text": ""}, headers=client.hdr()).status_code == 400


def _new_entry(client, text="8号楼电梯停了三天，老人下不了楼"):
    r = client.post("/api/classify", json={"text": text, "received_at": RECEIVED, "save": True}, headers=client.hdr())
    return r.json()["entry_id"]


def test_status_lifecycle_to_closed_with_history(client):
    entry_id = _new_entry(client)
    move = lambda status, **kw: client.post(f"/api/entries/{entry_id}/status", json={"status": status, **kw},
                                           headers=client.hdr())
    assert move("已回访").status_code == 409  # cannot skip steps
    r = move("已办结")  # answered on the spot is allowed, with its result (a director's trial)
    assert r.status_code == 400 and "办理结果" in r.json()["detail"]
    for status in ("已派单", "办理中", "已办结"):
        assert move(status, note="测试").json()["status"] == status
    assert move("已回访").status_code == 400  # satisfaction required
    assert move("已回访", satisfaction=5, feedback="修得很快").json()["status"] == "已回访"
    assert move("已销号").json()["status"] == "已销号"
    assert move("已派单").status_code == 409
    r = move("办理中", note="误销号")  # only an administrator may reopen, with a reason
    assert r.status_code == 403 and "管理员" in r.json()["detail"]
    history = client.get(f"/api/entries/{entry_id}/history", headers=client.hdr("viewer")).json()
    assert [h["to_value"] for h in history if h["field"] == "status"] == ["待派单", "已派单", "办理中", "已办结", "已回访", "已销号"]
    assert all(h["who"] for h in history)
    reopen = lambda **kw: client.post(f"/api/entries/{entry_id}/status", json={"status": "办理中", **kw},
                                      headers=client.hdr("admin"))
    assert reopen().status_code == 400 and "原因" in reopen().json()["detail"]
    assert reopen(note="误销号，居民说还没修好").json()["status"] == "办理中"
    last = [h for h in client.get(f"/api/entries/{entry_id}/history", headers=client.hdr()).json()
            if h["field"] == "status"][-1]
    assert last["to_value"] == "办理中" and last["note"] == "误销号，居民说还没修好"


def test_closing_needs_a_result_and_a_reply_cannot_be_blanked(client):
    entry_id = _new_entry(client)
    move = lambda status, **kw: client.post(f"/api/entries/{entry_id}/status", json={"status": status, **kw},
                                           headers=client.hdr())
    move("已派单"), move("办理中")
    r = move("已办结")
    assert r.status_code == 400 and "办理结果" in r.json()["detail"]
    done = move("已办结", note="已更换电梯主板，恢复运行")
    assert done.json()["status"] == "已办结" and done.json()["response"] == "已更换电梯主板，恢复运行"
    for blank in ("", "   "):
        r = client.patch(f"/api/entries/{entry_id}", json={"response": blank}, headers=client.hdr())
        assert r.status_code == 422 and "办理情况不能为空" in r.json()["detail"]
    r = client.patch(f"/api/entries/{entry_id}", json={"reply": "abc"}, headers=client.hdr())
    assert r.status_code == 400 and "response（办理情况）" in r.json()["detail"]


def test_unsatisfied_visit_reopens(client):
    entry_id = _new_entry(client)
    for status in ("已派单", "办理中", "已办结"):
        client.post(f"/api/entries/{entry_id}/status", json={"status": status, "note": "已处理"}, headers=client.hdr())
    r = client.post(f"/api/entries/{entry_id}/status", json={"status": "已回访", "satisfaction": 1}, headers=client.hdr())
    assert r.json()["status"] == "办理中" and r.json()["satisfaction"] == 1


def test_unknown_entry_and_status(client):
    assert client.get("/api/entries/99999", headers=client.hdr()).status_code == 404
    entry_id = _new_entry(client)
    r = client.post(f"/api/entries/{entry_id}/status", json={"status": "飞走了"}, headers=client.hdr())
    assert r.status_code == 400 and "未知状态" in r.json()["detail"]


def test_correction_reroutes_and_is_stored(client):
    entry_id = _new_entry(client, "楼上邻居家天天半夜吵，说了也不听")
    before = client.get(f"/api/entries/{entry_id}", headers=client.hdr()).json()
    r = client.post(f"/api/entries/{entry_id}/correct", json={"category": "宠物"}, headers=client.hdr())
    after = r.json()
    assert after["category"] == "pets" and after["corrected"]
    assert after["owner"] == "物业服务企业" and after["deadline"] != before["deadline"]
    r = client.post(f"/api/entries/{entry_id}/correct", json={"category": "pets", "owner": "社区居委会"}, headers=client.hdr())
    assert r.json()["owner"] == "社区居委会"
    assert client.post(f"/api/entries/{entry_id}/correct", json={"category": "外星人"}, headers=client.hdr()).status_code == 400
    stats = client.get("/api/stats", headers=client.hdr("viewer")).json()
    assert stats["corrected_share"] == 1.0 and stats["by_category"]["宠物管理"] == 1


def test_overdue_filter(client):
    old = client.post("/api/classify", json={"text": "垃圾桶满了没人清", "received_at": "2020-01-06T09:00:00+08:00",
                                             "save": True}, headers=client.hdr()).json()["entry_id"]
    _new_entry(client)
    red = client.get("/api/entries", params={"overdue": "red"}, headers=client.hdr()).json()
    assert [e["id"] for e in red["items"]] == [old] and red["items"][0]["overdue"] == "red"
    assert client.get("/api/stats", headers=client.hdr()).json()["overdue"]["red"] == 1


def test_patch_entry(client):
    entry_id = _new_entry(client)
    r = client.patch(f"/api/entries/{entry_id}", json={"location": "8号楼", "note": "补充地点"}, headers=client.hdr())
    assert r.json()["location"] == "8号楼"
    assert client.patch(f"/api/entries/{entry_id}", json={}, headers=client.hdr()).status_code == 400


def test_ledger_export_opens(client):
    _new_entry(client)
    r = client.get("/api/ledger.xlsx", headers=client.hdr("viewer"))
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert r.status_code == 200 and sheet["A1"].value == "序号" and sheet.max_row == 2


def test_ledger_export_prints_as_a_ledger(client):
    """Printed: landscape A4 one page wide, column names on every page, what was selected on top."""
    _new_entry(client)
    r = client.get("/api/ledger.xlsx", params={"q": "A&B"}, headers=client.hdr("viewer"))
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$1:$1"
    assert sheet.oddHeader.center.text == "问题台账（搜索“A&&B”）"  # a lone & would start an Excel code
    assert "&P" in sheet.oddFooter.center.text and sheet["A1"].value == "序号"


def test_open311_round_trip(client):
    services = client.get("/open311/v2/services.json", headers=client.hdr("viewer")).json()
    assert {s["service_code"] for s in services} >= {"parking", "pets", "other"}
    r = client.post("/open311/v2/requests.json", data={"description": "9栋楼下有条大狗天天不拴绳乱跑",
                                                       "address_string": "9栋", "requested_datetime": RECEIVED},
                    headers=client.hdr())
    assert r.status_code == 201
    request_id = r.json()[0]["service_request_id"]
    got = client.get(f"/open311/v2/requests/{request_id}.json", headers=client.hdr("viewer")).json()[0]
    assert got["service_code"] == "pets" and got["status"] == "open" and got["status_notes"].startswith("待派单")
    assert got["agency_responsible"] and got["expected_datetime"].endswith("+08:00")
    assert got["address"] == "9栋"
    listed = client.get("/open311/v2/requests.json", params={"service_code": "pets", "status": "open",
                                                             "api_key": client.tokens["viewer"]}).json()
    assert [x["service_request_id"] for x in listed] == [request_id]
    r = client.post("/open311/v2/requests.json", data={"description": "路灯坏了", "service_code": "nope"},
                    headers=client.hdr())
    assert r.status_code == 400




def test_batch_job_gbk_csv_with_download_and_save(client):
    csv = "编号,诉求内容\n1,3号楼电梯坏了两天\n2,楼下餐馆油烟太大\n3,谢谢社区\n".encode("gbk")
    r = client.post("/api/jobs", files={"file": ("工单.csv", csv, "text/csv")}, data={"save": "true"},
                    headers=client.hdr())
    assert r.status_code == 202
    job = _wait(client, r.json()["id"])
    assert job["status"] == "done" and job["total"] == job["done"] == 3
    out = client.get(job["download"], headers=client.hdr("viewer"))
    text = out.content.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert out.status_code == 200 and header[:2] == ["编号", "诉求内容"] and "类别" in header and "办理时限" in header
    assert "公共设施" in text and "facilities" in text and "True" not in text and "False" not in text  # 是/否
    assert client.get("/api/entries", headers=client.hdr()).json()["total"] == 3


@pytest.mark.parametrize("name, data, words", [
    ("x.csv", b"", "空文件"),
    ("x.xlsx", b"PK\x03\x04garbage", "Excel"),
    ("x.pdf", b"%PDF-1.4", "不支持"),
    ("x.csv", "编号,正文\n1,电梯\n".encode(), "找不到文本列"),
])
def test_batch_job_bad_files(client, name, data, words):
    r = client.post("/api/jobs", files={"file": (name, data)}, headers=client.hdr())
    assert r.status_code == 400 and words in r.json()["detail"]


def test_unknown_job(client):
    assert client.get("/api/jobs/nope", headers=client.hdr()).status_code == 404


def test_tokens_are_stored_hashed_and_never_logged(client, settings, caplog):

    caplog.set_level("INFO")
    client.get("/api/entries", params={"api_key": client.tokens["viewer"]})
    client.get("/api/entries", headers=client.hdr("viewer"))
    raw = open(settings.database, "rb").read()
    server_log = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "/api/entries" in server_log  # the access log is there, without the query string
    for token in client.tokens.values():
        assert token.encode() not in raw
        assert token not in server_log


def test_far_off_received_time_is_refused(client):
    r = client.post("/api/classify", json={"text": "电梯坏了", "received_at": "0188-01-12T07:45:24+08:00"},
                    headers=client.hdr())
    assert r.status_code == 422 and "2000" in r.json()["detail"]


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize("tty", [True, False])
def test_first_admin_token_never_reaches_a_log(tmp_path, tty):
    from service.cli import ADMIN_TOKEN_FILE, first_admin_token
    from service.store import Store

    stream = _Stream(tty)
    with Store(tmp_path / "t.db") as store:
        store.migrate()
        token = first_admin_token(store, tmp_path, stream)
        assert token.startswith("tri_")
        assert store.token_role(token)[0] == "admin"
        assert first_admin_token(store, tmp_path, _Stream(tty)) is None  # only on the first start
    file = tmp_path / ADMIN_TOKEN_FILE
    if tty:
        assert token in stream.getvalue() and not file.exists()
    else:
        assert token not in stream.getvalue() and str(file) in stream.getvalue()
        assert file.read_text(encoding="utf-8").strip() == token
        assert file.stat().st_mode & 0o777 == 0o600


def test_batch_job_web_page_xls_with_title_row_reports_what_it_skipped(client):
    page = ("<html><body><table><tr><td>幸福街道12345工单明细</td></tr>"
            "<tr><th>序号</th><th>事项描述</th><th>受理时间</th></tr>"
            "<tr><td>1</td><td>5栋楼道灯坏了一个星期</td><td>2026/11/3 9:15</td></tr>"
            "<tr><td>合计</td><td></td><td>共1件</td></tr></table></body></html>").encode("gbk")
    r = client.post("/api/jobs", files={"file": ("导出.xls", page)}, headers=client.hdr())
    assert r.status_code == 202
    notes = r.json()["notes"]
    assert any("表头在第 2 行" in n for n in notes) and any("合计" in n for n in notes)
    job = _wait(client, r.json()["id"])
    assert job["total"] == 1 and job["notes"] == notes  # a later poll still says what was skipped
    out = client.get(job["download"], headers=client.hdr("viewer"))
    assert out.content.startswith(b"PK")  # an .xls upload comes back as .xlsx
    sheet = load_workbook(io.BytesIO(out.content)).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]]))
    assert row["事项描述"] == "5栋楼道灯坏了一个星期" and row["办理时限"].startswith("2026-11-")


@pytest.mark.parametrize("payload, words", [
    ({"status": "已回访", "satisfaction": 6}, "满意度：请填 1–5 的整数"),
    ({"status": "已回访", "satisfaction": 0}, "满意度：请填 1–5 的整数"),
    ({"status": "已回访", "satisfaction": "很好"}, "满意度：请填 1–5 的整数，或 满意"),
    ({"status": "已派单", "note": "很长" * 300}, "备注 太长（最多 500 字）"),
])
def test_validation_errors_are_plain_chinese(client, payload, words):
    entry_id = client.post("/api/classify", json={"text": "小区东门的路灯坏了半个月", "received_at": RECEIVED,
                                                  "save": True}, headers=client.hdr()).json()["entry_id"]
    r = client.post(f"/api/entries/{entry_id}/status", json=payload, headers=client.hdr())
    assert r.status_code in (400, 422)
    detail = r.json()["detail"]
    assert words in detail and "Input should" not in detail, detail


def test_upload_error_does_not_mention_command_line_options(client):
    r = client.post("/api/jobs", files={"file": ("x.csv", "编号,正文\n1,电梯\n".encode())}, headers=client.hdr())
    assert r.status_code == 400 and "--column" not in r.json()["detail"] and "内容" in r.json()["detail"]


def test_weekly_stats_use_iso_weeks_in_local_time(client):
    # Monday 2026-11-23 00:30 in Beijing is still Sunday in UTC: it belongs to ISO week 48, not 47
    for n, when in enumerate(("2026-11-23T00:30:00+08:00", "2026-11-22T23:30:00+08:00", "2026-11-25T09:30:00+08:00")):
        client.post("/api/classify", json={"text": f"{n + 1}号楼路灯坏了", "received_at": when, "save": True},
                    headers=client.hdr())
    stats = client.get("/api/stats", headers=client.hdr("viewer")).json()
    assert stats["by_week"] == {"2026-W47": 1, "2026-W48": 2}
    assert stats["this_week"]["week"] >= "2026-W48" and stats["this_week"]["received"] == stats["by_week"].get(
        stats["this_week"]["week"], 0)


def test_saving_the_same_notes_twice_does_not_duplicate_open_entries(client):
    notes = "张大爷（3号楼）：3号楼电梯坏了两天了，老人下不了楼。\n王阿姨（8号楼）：东门路灯不亮，晚上黑漆漆的。"
    issues = {"issues": client.post("/api/extract", json={"text": notes}, headers=client.hdr()).json()["issues"]}
    assert len(issues["issues"]) == 2
    first = client.post("/api/entries", json=issues, headers=client.hdr()).json()
    again = client.post("/api/entries", json=issues, headers=client.hdr()).json()
    assert [e["already"] for e in first] == [False, False] and [e["already"] for e in again] == [True, True]
    assert [e["id"] for e in again] == [e["id"] for e in first]
    assert client.get("/api/entries", headers=client.hdr()).json()["total"] == 2


def _docx(paragraphs, table=None) -> bytes:
    from docx import Document

    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    if table:
        t = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_meeting_notes_as_a_word_file(client):
    data = _docx(["幸福社区板凳会记录（11月24日）", "张大爷（3号楼）：3号楼电梯坏了两天了，老人下不了楼。",
                  "物业刘经理：电梯已经报修，明天维保公司来人。"],
                 table=[["序号", "居民反映问题"], ["1", "东门路灯不亮，晚上黑漆漆的"]])
    r = client.post("/api/extract/file", files={"file": ("板凳会记录.docx", data)}, data={"save": "true"},
                    headers=client.hdr())
    assert r.status_code == 200, r.text
    issues = r.json()["issues"]
    assert {i["category"] for i in issues} == {"facilities"} and len(issues) == 2
    assert all(i["entry_id"] for i in issues)
    assert any("维保公司" in (i["response"] or "") for i in issues)


@pytest.mark.parametrize("name, data, words", [
    ("记录.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版 Word"),
    ("记录.docx", b"not a zip", "不是有效的 Word"),
    ("记录.pdf", b"%PDF-1.4 ...", "不支持"),
    ("记录.txt", b"", "空文件"),
])
def test_bad_notes_files_get_one_clear_sentence(client, name, data, words):
    r = client.post("/api/extract/file", files={"file": (name, data)}, headers=client.hdr())
    assert r.status_code == 400 and words in r.json()["detail"]


def test_extract_counts_deadlines_from_the_meeting_date_in_the_record(client):
    yesterday = (dt.datetime.now().astimezone() - dt.timedelta(days=1))
    notes = f"板凳会记录（{yesterday.month}月{yesterday.day}日）\n张大爷（3号楼）：3号楼电梯坏了两天了，老人下不了楼。"
    out = client.post("/api/extract", json={"text": notes}, headers=client.hdr()).json()
    assert out["received_at"].startswith(yesterday.strftime("%Y-%m-%dT09:00"))
    given = client.post("/api/extract", json={"text": notes, "received_at": RECEIVED}, headers=client.hdr()).json()
    assert given["received_at"].startswith(RECEIVED[:16])  # an explicit clock wins


def test_me_says_who_is_logged_in(client):
    me = client.get("/api/me", headers=client.hdr("viewer")).json()
    assert me["role"] == "viewer" and me["role_name"] == "查看" and me["name"]


def test_a_word_file_that_unpacks_too_far_is_refused(client, monkeypatch):
    monkeypatch.setattr("triage._sheets.MAX_UNPACKED_BYTES", 1_000)
    data = _docx(["张大爷（3号楼）：3号楼电梯坏了两天了。"] * 50)
    r = client.post("/api/extract/file", files={"file": ("记录.docx", data)}, headers=client.hdr())
    assert r.status_code == 400 and "过大" in r.json()["detail"]


def test_a_correction_applies_at_once_to_repeats_of_the_same_complaint(client):
    text = "楼下那家店天天往下水道倒油，井盖边上一股味"
    first = client.post("/api/classify", json={"text": text, "received_at": RECEIVED, "save": True},
                        headers=client.hdr()).json()
    assert first["category"] != "property"
    client.post(f"/api/entries/{first['entry_id']}/correct", json={"category": "property"}, headers=client.hdr())
    repeat = client.post("/api/classify", json={"text": text + "！", "received_at": RECEIVED}, headers=client.hdr()).json()
    assert repeat["category"] == "property" and any("已更正" in n for n in repeat["notes"])
    other = client.post("/api/classify", json={"text": "东门路灯坏了半个月", "received_at": RECEIVED},
                        headers=client.hdr()).json()
    assert other["category"] == "facilities"
    # a batch upload gets the same treatment
    csv = f"编号,诉求内容\n1,{text}。\n2,东门路灯坏了半个月\n".encode("utf-8")
    job = _wait(client, client.post("/api/jobs", files={"file": ("t.csv", csv)}, headers=client.hdr()).json()["id"])
    out = client.get(job["download"], headers=client.hdr("viewer")).content.decode("utf-8-sig")
    assert "property" in out.splitlines()[1] and "facilities" in out.splitlines()[2]


def test_a_problem_register_table_in_a_word_record_keeps_speakers_places_and_replies(client):
    data = _docx(["和平社区议事会记录（11月24日）"], table=[
        ["序号", "提出人", "楼栋", "反映问题", "现场答复"],
        ["1", "马师傅", "7号楼", "7号楼西侧下水道井盖丢了，晚上看不见很危险", "物业今天先围挡，明天补装"],
        ["2", "", "", "东门路灯不亮，晚上黑漆漆的", ""],
    ])
    r = client.post("/api/extract/file", files={"file": ("议事会.docx", data)}, headers=client.hdr())
    issues = r.json()["issues"]
    manhole = next(i for i in issues if "井盖" in i["summary"])
    assert manhole["summary"].startswith("7号楼西侧") and manhole["speakers"] == ["马师傅"]
    assert manhole["location"] == "7号楼" and "围挡" in manhole["response"]
    assert manhole["category"] == "safety" and manhole["urgent"]  # an open manhole: taxonomy rule 1
    assert any(i["summary"].startswith("东门路灯") for i in issues)


def test_a_workbook_sent_as_notes_is_pointed_to_the_ticket_upload(client):
    book = Workbook()
    book.active.append(["诉求内容"])
    buf = io.BytesIO()
    book.save(buf)
    r = client.post("/api/extract/file", files={"file": ("工单.xlsx", buf.getvalue())}, headers=client.hdr())
    assert r.status_code == 400 and "上传工单表" in r.json()["detail"]


def test_a_revoked_token_stops_writing_at_once(client):
    r = client.post("/api/admin/tokens", json={"role": "staff", "name": "赵物业"}, headers=client.hdr("admin"))
    assert r.status_code == 201
    token = r.json()["token"]
    hdr = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/classify", json={"text": "3号楼电梯坏了", "save": True}, headers=hdr).status_code == 200
    token_id = next(t["id"] for t in client.get("/api/admin/tokens", headers=client.hdr("admin")).json()
                    if t["name"] == "赵物业")
    assert "token" not in client.get("/api/admin/tokens", headers=client.hdr("admin")).json()[0]
    assert client.delete(f"/api/admin/tokens/{token_id}", headers=client.hdr("admin")).json()["revoked"]
    # straight away, while the read cache may still know the token
    r = client.post("/api/classify", json={"text": "4号楼电梯坏了", "save": True}, headers=hdr)
    assert r.status_code == 401
    assert client.post("/api/entries", json={"issues": []}, headers=hdr).status_code in (401, 422)
    assert client.delete("/api/admin/tokens/999", headers=client.hdr("admin")).status_code == 404
    assert client.get("/api/admin/tokens", headers=client.hdr("staff")).status_code == 403


def test_every_save_path_keeps_one_entry_per_problem(client):
    notes = "钱师傅（6号楼）：6号楼门口的路灯坏了一个礼拜。\n"
    first = client.post("/api/extract", json={"text": notes, "save": True}, headers=client.hdr()).json()["issues"]
    again = client.post("/api/extract", json={"text": notes, "save": True}, headers=client.hdr()).json()["issues"]
    assert [i["entry_id"] for i in again] == [i["entry_id"] for i in first] and all(i["already"] for i in again)
    one = [client.post("/api/classify", json={"text": "9号楼电梯又停了", "save": True}, headers=client.hdr()).json()
           for _ in range(3)]
    assert len({r["entry_id"] for r in one}) == 1 and [r["already"] for r in one] == [False, True, True]
    ids = {client.post("/open311/v2/requests.json", data={"description": "7号楼楼道灯坏了"},
                       headers=client.hdr()).json()[0]["service_request_id"] for _ in range(2)}
    assert len(ids) == 1


def test_open311_speaks_georeport_v2(client):
    token = client.tokens["staff"]
    r = client.post("/open311/v2/requests.json", data={"description": "4号楼门口的井盖丢了", "api_key": token})
    assert r.status_code == 201  # api_key in the POST body, as GeoReport v2 clients send it
    r = client.post("/open311/v2/requests.json", data={"description": "草坪被挖了", "service_code": "绿化养护"},
                    headers=client.hdr())
    assert r.status_code == 201
    got = client.get(f"/open311/v2/requests/{r.json()[0]['service_request_id']}.json", headers=client.hdr()).json()[0]
    assert got["service_code"] == "greening"
    r = client.get("/open311/v2/requests.json", params={"service_code": "外星人"}, headers=client.hdr())
    assert r.status_code == 400 and r.json()[0]["code"] == 400 and "未知的 service_code" in r.json()[0]["description"]


def test_a_status_with_a_trailing_space_and_a_wrong_choice_get_plain_answers(client):
    made = client.post("/api/classify", json={"text": "7号楼楼道灯坏了", "save": True}, headers=client.hdr()).json()
    r = client.post(f"/api/entries/{made['entry_id']}/status", json={"status": "已派单 "}, headers=client.hdr())
    assert r.status_code == 200 and r.json()["status"] == "已派单"
    r = client.get("/api/entries", params={"overdue": "blue"}, headers=client.hdr())
    assert r.status_code in (400, 422) and "yellow、red、any" in r.json()["detail"] and " or " not in r.json()["detail"]


def test_what_an_audit_sent_is_a_clear_4xx(client):
    """From an audit: each of these was a 500 with a traceback, or saved a text that says nothing."""
    hdr = {**client.hdr(), "Content-Type": "application/json"}
    for path, body in (("/api/classify", '{"text": "\\ud800电梯坏了"}'), ("/api/extract", '{"text": "9号楼垃圾没人清\\udc00"}')):
        r = client.post(path, content=body, headers=hdr)
        assert r.status_code == 400 and "无法识别的字符" in r.json()["detail"], path
    r = client.post("/api/classify", content=b'{"text": "' + b"a" * (5 * 1024 * 1024) + b'"}', headers=hdr)
    assert r.status_code == 413 and "太大" in r.json()["detail"]
    for text in ("？？？", "😀😀", "\u200b\u200b"):  # answered, but nothing to file
        assert client.post("/api/classify", json={"text": text}, headers=client.hdr()).status_code == 200
        r = client.post("/api/classify", json={"text": text, "save": True}, headers=client.hdr())
        assert r.status_code == 400 and "没有文字" in r.json()["detail"]
    for params in ({"start_date": "0001-01-01T00:00:00"}, {"end_date": "9999-12-31T00:00:00"}):
        assert client.get("/open311/v2/requests.json", params=params, headers=client.hdr()).status_code == 200
    [issue] = client.post("/api/extract", json={"text": NOTES.splitlines()[1]}, headers=client.hdr()).json()["issues"]
    r = client.post("/api/entries", json={"issues": [{**issue, "received_at": "2026-11-20T09:00:00"}]}, headers=client.hdr())
    assert r.status_code == 201 and r.json()[0]["received_at"].startswith("2026-11-20T09:00:00+08:00")
    for bad in ({"quotes": ["字" * 100_001]}, {"summary": "x" * 600}, {"confidence": 5}, {"summary": "", "quotes": ["？？"]},
                {"notes": ["n"] * 60}):
        r = client.post("/api/entries", json={"issues": [{**issue, **bad}]}, headers=client.hdr())
        assert r.status_code == 422, bad


def test_a_problem_answered_on_the_spot_is_closed_in_one_step(client):
    entry_id = _new_entry(client, "5号楼王阿姨问垃圾分类的桶放在哪里")
    r = client.post(f"/api/entries/{entry_id}/status", json={"status": "已办结", "note": "电话当场答复：放在北门垃圾房"},
                    headers=client.hdr())
    assert r.status_code == 200 and r.json()["status"] == "已办结" and r.json()["response"].startswith("电话当场答复")


def test_what_a_review_of_the_guards_found(client):
    """Open311 bounds with an offset, a JSON content type in capitals, a long transcript quote saved back."""
    for params in ({"start_date": "9999-12-31T23:00:00-10:00"}, {"end_date": "0001-01-01T05:00:00+08:00"}):
        assert client.get("/open311/v2/requests.json", params=params, headers=client.hdr()).status_code == 200
    hdr = {**client.hdr(), "Content-Type": "Application/JSON"}
    r = client.post("/api/classify", content='{"text": "\\ud800电梯坏了", "save": true}', headers=hdr)
    assert r.status_code == 400
    line = "说话人1 " + "三号楼的电梯又坏了 老人下不了楼 " * 300  # a transcript with no punctuation
    issues = client.post("/api/extract", json={"text": line}, headers=client.hdr()).json()["issues"]
    assert issues and max(len(q) for i in issues for q in i["quotes"]) > 5000
    assert client.post("/api/entries", json={"issues": issues}, headers=client.hdr()).status_code == 201


def test_matters_beyond_the_community_are_named_not_dropped_silently(client):
    """From a user trial: "咨询附近小学招生划片 / 已答复" vanished without a word. A numbered 12345 work order is
    filed whatever it is about (the centre tracks it by its number); one the community sent back, and a
    resident's question at a meeting that nobody passed on, are named under `beyond`."""
    text = ("序号\t工单号\t诉求内容\t办理情况\n"
            "1\tGD20261120031\t来电人反映3号楼电梯坏了两天了\t已派物业\n"
            "2\tGD20261120032\t来电人咨询附近小学招生划片\t已答复\n"
            "3\tGD20261120033\t来电人咨询社保卡补办流程\t非社区职责，已退回12345\n")
    out = client.post("/api/extract", json={"text": text}, headers=client.hdr()).json()
    assert [i["category"] for i in out["issues"]] == ["facilities", "other"]
    assert out["issues"][1]["response"] == "已答复"
    assert len(out["beyond"]) == 1 and "社保卡" in out["beyond"][0]
    meeting = "钱阿姨（4号楼）：我想问一下，我孙子明年上小学，划片是怎么划的？\n主持人：这个归教育局管，您可以去问问。"
    out = client.post("/api/extract", json={"text": meeting}, headers=client.hdr()).json()
    assert out["issues"] == [] and len(out["beyond"]) == 1 and "划片" in out["beyond"][0]


def test_a_residents_request_that_is_no_problem_is_named_not_dropped(client):
    """From the 书记 trial: "希望社区医生能上门量血压" in a walk log vanished; the reply said only "共 2 个问题"."""
    text = ("网格巡查日志\n1. 5号楼东侧消防通道被两辆私家车堵住，已联系车主挪走。\n"
            "2. 走访独居老人孙奶奶（9栋102），身体还行，希望社区医生能上门给她量量血压。\n"
            "3. 8号楼门口的路灯不亮了。\n")
    out = client.post("/api/extract", json={"text": text}, headers=client.hdr()).json()
    assert len(out["issues"]) == 2, out["issues"]
    assert len(out["unlisted"]) == 1 and "量量血压" in out["unlisted"][0]
    chat = "王阿姨（3号楼）：孩子没事吧？\n主持人：没事没事，谢谢关心。\n王阿姨（3号楼）：3号楼电梯坏了三天了。"
    out = client.post("/api/extract", json={"text": chat}, headers=client.hdr()).json()
    assert out["unlisted"] == []  # courtesy asks nothing of the community


def test_ledger_export_has_a_sheet_that_prints_legibly(client):
    """From the 街道 desk trial: 24 columns on one A4 width print at a third of their size."""
    _new_entry(client)
    r = client.get("/api/ledger.xlsx", headers=client.hdr("viewer"))
    book = load_workbook(io.BytesIO(r.content))
    printed = book["打印版"]
    names = [c.value for c in printed[1]]
    assert names[:4] == ["序号", "台账编号", "社区", "问题内容"] and "办理情况" in names and len(names) <= 10
    assert printed.max_row == book["问题台账"].max_row and printed.print_title_rows == "$1:$1"
    assert sum(printed.column_dimensions[chr(65 + i)].width for i in range(len(names))) < 160


def test_a_database_held_by_another_program_gets_a_503_that_says_so(client, monkeypatch):
    """From the admin trial: a database locked by a backup answered a bare 500 after 30 s."""
    import sqlite3

    from service.store import Store

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(Store, "add_entries", locked)
    r = client.post("/api/classify", json={"text": "3号楼电梯坏了两天", "save": True}, headers=client.hdr())
    assert r.status_code == 503 and "没有保存" in r.json()["detail"] and r.headers["retry-after"] == "60"


def test_the_last_admin_token_cannot_be_revoked(client):
    """From the admin trial: revoking every admin token, one's own too, locked everyone out."""
    tokens = client.get("/api/admin/tokens", headers=client.hdr("admin")).json()
    admins = [t for t in tokens if t["role"] == "admin" and not t["revoked"]]
    for t in admins[:-1]:
        assert client.delete(f"/api/admin/tokens/{t['id']}", headers=client.hdr("admin")).status_code in (200, 401)
    last = admins[-1]
    extra = client.post("/api/admin/tokens", json={"role": "admin", "name": "备用管理员"}, headers=client.hdr("admin"))
    hdr = {"Authorization": f"Bearer {extra.json()['token']}"}
    assert client.delete(f"/api/admin/tokens/{last['id']}", headers=hdr).status_code == 200
    mine = next(t["id"] for t in client.get("/api/admin/tokens", headers=hdr).json() if t["name"] == "备用管理员")
    r = client.delete(f"/api/admin/tokens/{mine}", headers=hdr)
    assert r.status_code == 409 and "最后一个" in r.json()["detail"]
    r = client.delete(f"/api/admin/tokens/{last['id']}", headers=hdr)
    assert r.status_code == 409 and "已经停用" in r.json()["detail"]


def test_a_new_database_is_readable_by_its_owner_only(tmp_path):
    """From the admin trial: triage.db (residents' words, phones, token hashes) was created -rw-r--r--."""
    import stat

    from service.store import Store

    with Store(tmp_path / "t.db"):
        pass
    assert stat.S_IMODE((tmp_path / "t.db").stat().st_mode) == 0o600


def test_a_token_in_the_address_works_for_open311_only(client):
    """From the admin trial: ?api_key= opened the whole ledger; only GeoReport v2 clients put it there."""
    key = client.tokens["viewer"]
    r = client.get("/api/entries", params={"api_key": key})
    assert r.status_code == 401 and "令牌" in r.json()["detail"]
    assert client.get("/open311/v2/requests.json", params={"api_key": key}).status_code == 200
