"""The chat page in headless Chromium (Debian's package) driven by Playwright.

Skipped when /usr/bin/chromium is absent, unless TRIAGE_REQUIRE_BROWSER=1 (set by .ci/run).
"""

import io
import os
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT, live_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("TRIAGE_REQUIRE_BROWSER") != "1",
    reason="Debian chromium not installed")

NOTES = (ROOT / "tests" / "notes" / "01_speaker_lines.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("browser") / "data", "admin", "浏览器测试") as (url, token, settings):
        yield {"url": url, "token": token, "settings": settings}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.goto(server["url"] + "/")
    page.fill("#token-input", server["token"])
    page.click("#login-form button")
    page.wait_for_selector("#app:not([hidden])")
    yield page
    context.close()


def _signed_in(browser, url: str, token: str):
    """A fresh browser context on another live server, signed in with `token`: (context, page)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.goto(url + "/")
    page.fill("#token-input", token)
    page.click("#login-form button")
    page.wait_for_selector("#app:not([hidden])")
    return context, page


def send(page, text):
    page.fill("#input", text)
    page.click("#send")


def test_paste_notes_correct_save_and_export(page, server):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    send(page, NOTES)
    page.wait_for_selector(".card")
    chips = page.locator(".card .chip").all_inner_texts()
    assert chips == ["充电设施", "公共设施", "公共设施", "绿化养护"]
    page.screenshot(path=str(ROOT / "docs" / "screenshot.png"))

    # correct card 4 (greening → pets) from its menu: owner and deadline change, correction stored
    card = page.locator('.card[data-n="4"]')
    before = card.locator(".deadline").inner_text()
    card.locator("select.cat-select").select_option("pets")
    page.wait_for_selector('.card[data-n="4"] .chip:text("宠物管理")')
    card = page.locator('.card[data-n="4"]')
    assert card.locator("select.owner-select").input_value() == "物业服务企业"
    assert card.locator(".deadline").inner_text() != before
    assert "已入台账" in card.inner_text()

    # chat command: 第2条改为宠物 → then back; 第3条责任主体改为社区
    send(page, "第3条责任主体改为社区居委会")
    page.wait_for_function("document.querySelector('.card[data-n=\"3\"] select.owner-select').value === '社区居委会'")

    send(page, "全部保存")
    page.wait_for_selector("text=已存入台账 2 条")
    page.click('.tab[data-view="ledger"]')
    page.wait_for_selector("#ledger-table tbody tr")
    assert page.locator("#ledger-table tbody tr").count() == 4
    # correct a saved entry's category right in the ledger: it is re-routed on the spot
    row = page.locator("#ledger-table tbody tr").first
    row.locator("select.cat-select").select_option("safety")
    page.wait_for_function("[...document.querySelectorAll('#ledger-table tbody tr')].some("
                           "r => r.querySelector('select.cat-select').value === 'safety')")

    page.click('.tab[data-view="chat"]')
    with page.expect_download() as info:
        send(page, "导出台账")
    assert info.value.suggested_filename.endswith(".xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    assert sheet["A1"].value == "序号" and sheet.max_row == 5

    import json
    import urllib.request

    req = urllib.request.Request(server["url"] + "/api/admin/examples",
                                 headers={"Authorization": f"Bearer {server['token']}"})
    stored = [json.loads(l) for l in urllib.request.urlopen(req).read().decode().splitlines()]
    assert [s["label"] for s in stored][:1] == ["pets"]
    assert not dialogs


def test_upload_csv_progress_and_download(page, tmp_path):
    csv = tmp_path / "工单.csv"
    csv.write_bytes("编号,诉求内容\n1,3号楼电梯坏了两天\n2,楼下烧烤店油烟太大\n3,谢谢社区\n".encode("gbk"))
    page.set_input_files("#file", str(csv))
    page.wait_for_selector("text=完成：3 条")
    assert page.locator(".progress > div").evaluate("e => e.style.width") == "100%"
    with page.expect_download() as info:
        page.click(".download-job")
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    assert "类别" in text.splitlines()[0] and "公共设施" in text
    assert info.value.suggested_filename == "工单_已分类.csv"  # never the upload's own name
    page.click("button:has-text('存入台账')")  # tagged only; saved afterwards without picking the file again
    page.wait_for_selector("text=/已存入台账 \\d+ 条/")


def test_a_wrong_upload_is_taken_back_from_the_chat(page, server, tmp_path):
    csv = tmp_path / "错的表.csv"
    csv.write_bytes("编号,诉求内容\n1,19号楼的单元门禁坏了一个星期\n2,19号楼后面的垃圾桶好几天没人清\n".encode("gbk"))
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.check("#upload-save")
    page.set_input_files("#file", str(csv))
    page.wait_for_selector("text=已存入台账 2 条")
    page.click(".undo-job")
    page.wait_for_selector("text=已撤销：2 条作废")
    assert dialogs and "错的表.csv" in dialogs[0]
    found = [e for e in _api(server, "/api/entries?limit=200")["items"] if "19号楼" in e["text"]]
    assert len(found) == 2 and {e["status"] for e in found} == {"已作废"}
    send(page, "上传记录")  # the upload is listed, taken back already
    page.wait_for_selector(".job-row:has-text('错的表.csv'):has-text('已于')")
    # 在台账中查看: the ledger shows that upload's entries only, until the chip's ✕
    _api(server, "/api/classify", {"text": "19号楼东边的路灯不亮了", "save": True})
    page.locator(".job-row:has-text('错的表.csv') .view-job").click()
    page.wait_for_selector("#f-job-chip:not([hidden]):has-text('错的表.csv')")
    page.wait_for_selector("#ledger-info:has-text('共 2 条')")
    assert page.locator("#ledger-table tbody tr").count() == 2
    page.click("#f-job-clear")
    page.wait_for_selector("#f-job-chip[hidden]", state="attached")
    page.wait_for_function("() => !/^共 2 条$/.test(document.querySelector('#ledger-info').textContent)")


def test_script_in_a_message_is_shown_as_text(page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>电梯坏了"
    send(page, evil)
    page.wait_for_selector(".card")
    assert page.locator(".msg.user").last.inner_text() == evil
    assert evil in page.locator(".card .quote").last.inner_text()
    assert page.locator(".messages script, .messages img").count() == 0
    assert not dialogs


def test_unknown_command_gets_help_and_phone_layout(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(server["url"] + "/")
    page.fill("#token-input", server["token"])
    page.click("#login-form button")
    page.wait_for_selector("#app:not([hidden])")
    send(page, "第9条删除。")  # the full stop an input method adds does not matter
    page.wait_for_selector("text=没有第9条")
    send(page, "修改一下那个")
    page.wait_for_selector("text=没听懂")
    send(page, "好的谢谢")  # conversation is not a problem card, and gets no 登记 suggestion
    page.wait_for_selector("text=有问题请直接说")
    send(page, "请问社区居委会周六上午有人值班吗")
    page.wait_for_selector("text=没有发现需要登记的问题")
    assert page.locator(".card").count() == 0
    send(page, "帮助")
    page.wait_for_selector("text=全部保存 / 入台账")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows sideways on a phone
    page.screenshot(path=str(ROOT / "docs" / "screenshot-phone.png"))
    context.close()


def test_bad_token_is_refused(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server["url"] + "/")
    page.fill("#token-input", "tri_wrong")
    page.click("#login-form button")
    page.wait_for_selector("text=令牌无效")
    context.close()


def test_delete_a_card_force_a_message_and_log_out_clean(page, server):
    send(page, NOTES)
    page.wait_for_selector(".card")
    before = page.locator(".card").count()
    send(page, "把第二个删掉")
    page.wait_for_selector("text=已删除第2条")
    assert page.locator(".card").count() == before - 1
    assert page.locator('.card[data-n="2"]').count() == 0 and page.locator('.card[data-n="3"]').count() == 1
    send(page, "登记：孩子明年上学划片的事想问问社区")  # not a fault, but staff want it in the ledger
    page.wait_for_function("document.querySelectorAll('.card').length === %d" % before)
    page.reload()  # cards survive a reload in this tab, with the same numbers
    page.wait_for_selector("text=条问题已恢复")
    assert page.locator(".card").count() == before and page.locator('.card[data-n="2"]').count() == 0
    page.click("#logout")
    page.wait_for_selector("#login:not([hidden])")
    assert page.input_value("#token-input") == ""
    assert page.locator("#messages .msg").count() == 0  # nothing left for the next person at this computer


def test_upload_a_word_record_of_the_meeting(page, tmp_path):
    from docx import Document

    doc = Document()
    for line in ("板凳会记录", "张大爷（3号楼）：3号楼电梯坏了两天了，老人下不了楼。", "王阿姨（8号楼）：东门路灯不亮，晚上黑漆漆的。"):
        doc.add_paragraph(line)
    path = tmp_path / "板凳会记录.docx"
    doc.save(path)
    page.set_input_files("#notes-file", str(path))
    page.wait_for_selector(".card")
    assert page.locator(".card").count() == 2


def test_stats_tab_draws_its_charts(page, server):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    send(page, NOTES)
    page.wait_for_selector(".card")
    send(page, "全部保存")  # the module's server may hold these notes already: then nothing new is saved
    page.wait_for_selector("text=/已存入台账|没有新登记/")
    page.click('.tab[data-view="stats"]')
    page.wait_for_selector("#stat-cards .stat")
    assert page.locator("#stat-cards .error").count() == 0
    inked = page.evaluate("""() => {
        const c = document.querySelector('#chart-category');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
        return [n, c.width, c.clientWidth, parseFloat(c.style.width)];
    }""")
    assert inked[0] > 500 and inked[2] > 0  # bars and labels were drawn
    assert abs(inked[2] - inked[3]) <= 1  # drawn at the size shown: text is not scaled down
    # who entered and closed what: the token's holder is a row of the 按人员 table
    assert page.locator("#people-table tbody tr", has_text="浏览器测试").count() == 1
    total = lambda: int(page.locator("#stat-cards .stat b").first.inner_text())
    everyone = total()
    page.select_option("#s-owner", "网格员")  # one owner's figures: nobody routes these notes to 网格员 alone
    page.wait_for_function(f"((b) => !!b && b.textContent !== '{everyone}')(document.querySelector('#stat-cards .stat b'))")
    assert total() < everyone
    page.click('.tab[data-view="chat"]')
    send(page, "本周统计")
    page.wait_for_selector(".bot >> text=新登记")
    page.wait_for_selector(".msg.bot:has-text('本周（')")
    said = page.locator(".msg.bot", has_text="本周（").last.inner_text()
    import re

    assert re.search(r"本周（\d{1,2}月\d{1,2}日–(?:\d{1,2}月)?\d{1,2}日）", said), said  # days, not "第48周" (书记 trial)
    page.wait_for_timeout(300)
    assert not errors


def test_everyday_wording_of_corrections(page, server):
    send(page, "小区门口的垃圾桶三天没人清了，苍蝇到处飞")
    page.wait_for_selector(".card")
    n = page.locator(".card").last.get_attribute("data-n")
    send(page, f"第{n}条改为卫生")  # what it already is: nothing saved, nothing recorded
    page.wait_for_selector("text=不用更正")
    assert "已入台账" not in page.locator(f'.card[data-n="{n}"]').inner_text()
    send(page, f"把第{n}个改成停车管理")
    page.wait_for_selector(f'.card[data-n="{n}"] .chip:text("停车管理")')
    page.wait_for_selector("text=已同时存入台账")
    send(page, f"第{n}条改为垃圾")  # 垃圾 is how staff say 环境卫生
    page.wait_for_selector(f'.card[data-n="{n}"] .chip:text("环境卫生")')
    send(page, f"第{n}条责任主体改为隔壁老王")
    page.wait_for_selector("text=不认识责任主体")
    send(page, "第99条改为宠物")
    page.wait_for_selector("text=现有的是第")


def test_saving_notes_a_colleague_already_corrected_shows_the_correction(page, server):
    import json
    import urllib.parse
    import urllib.request

    notes = "寇师傅（4号楼）：4号楼后面那片草坪被人挖了种菜，好好的绿地弄得坑坑洼洼。\n"
    send(page, notes)
    page.wait_for_selector(".card")
    send(page, "全部保存")
    page.wait_for_selector("text=/已存入台账|没有新登记/")
    req = urllib.request.Request(server["url"] + "/api/entries?q=" + urllib.parse.quote("草坪被人挖了"),
                                 headers={"Authorization": f"Bearer {server['token']}"})
    entry_id = json.loads(urllib.request.urlopen(req).read())["items"][0]["id"]
    body = json.dumps({"category": "dispute"}).encode()  # a colleague corrects it in the ledger
    urllib.request.urlopen(urllib.request.Request(
        f"{server['url']}/api/entries/{entry_id}/correct", data=body, method="POST",
        headers={"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"}))
    send(page, notes.replace("，", ","))  # pasted again by someone else, other punctuation
    page.wait_for_function("document.querySelectorAll('.card').length >= 2")
    send(page, "全部保存")
    page.wait_for_function("[...document.querySelectorAll('.card')].pop().querySelector('.chip').innerText === '邻里纠纷'")
    assert "已入台账" in page.locator(".card").last.inner_text()


def _api(server, path, body=None, method=None):
    import json
    import urllib.request

    req = urllib.request.Request(server["url"] + path, data=json.dumps(body).encode() if body is not None else None,
                                 method=method, headers={"Authorization": f"Bearer {server['token']}",
                                                         "Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read().decode())


def _open_panel(page, words):
    """The 台账 tab, the row holding `words`, its 办理 panel opened: the panel's locator."""
    page.click('.tab[data-view="ledger"]')
    page.locator("#ledger-table tbody tr", has_text=words).locator("button", has_text="办理").click()
    return page.locator("tr.detail")


def test_an_owner_works_through_its_items_in_the_ledger(page, server):
    mine = _api(server, "/api/classify", {"text": "7号楼单元门的门禁坏了，刷卡没反应", "save": True})["entry_id"]
    other = _api(server, "/api/classify", {"text": "3号楼和5号楼两家因为装修噪音吵起来了", "save": True})["entry_id"]
    answers = iter(["门禁主板已更换，刷卡正常"])
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept(next(answers, ""))))
    page.click('.tab[data-view="ledger"]')
    page.select_option("#f-owner", "物业服务企业")  # only what 物业 leads or co-handles
    page.wait_for_selector("#ledger-table tbody tr:has-text('7号楼单元门')")
    page.wait_for_function("![...document.querySelectorAll('#ledger-table tbody tr')].some(r => r.textContent.includes('装修噪音'))")
    ids = page.locator("#ledger-table tbody tr td:first-child").all_inner_texts()
    assert str(mine) in ids and str(other) not in ids

    row = page.locator("#ledger-table tbody tr", has_text="7号楼单元门")
    row.locator("button", has_text="办理").click()
    detail = page.locator("tr.detail")
    detail.locator("textarea").fill("已联系门禁厂家，明天上门")
    detail.locator("button", has_text="保存办理情况").click()
    page.wait_for_function("!document.querySelector('tr.detail')")
    assert _api(server, f"/api/entries/{mine}")["response"] == "已联系门禁厂家，明天上门"

    row = page.locator("#ledger-table tbody tr", has_text="7号楼单元门")
    row.locator("button", has_text="办理").click()
    page.wait_for_selector("tr.detail ol.history li:has-text('已联系门禁厂家')")  # the 办理记录 shows the reply
    detail = page.locator("tr.detail")
    detail.locator("select[aria-label='转交给']").select_option("社区居委会")
    detail.locator("input[aria-label='转交原因']").fill("门禁系统由社区统一安装")
    detail.locator("button", has_text="转交").click()
    page.wait_for_function("!document.querySelector('tr.detail')")
    entry = _api(server, f"/api/entries/{mine}")
    assert entry["owner"] == "社区居委会"
    history = _api(server, f"/api/entries/{mine}/history")
    assert any(h["field"] == "owner" and h["note"] == "门禁系统由社区统一安装" for h in history)
    assert not dialogs


def test_a_suspected_repeat_is_merged_from_the_ledger_and_from_the_chat(page, server):
    first = _api(server, "/api/classify", {"text": "长青小区12号楼电梯坏了，老人下不了楼", "save": True})["entry_id"]
    second = _api(server, "/api/classify", {"text": "长青小区12号楼电梯老坏，物业修了也没用，希望换新电梯。",
                                            "save": True})["entry_id"]
    assert second != first and any(f"第 {first} 条" in n for n in _api(server, f"/api/entries/{second}")["notes"])
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    detail = _open_panel(page, "希望换新电梯")
    assert detail.locator("input[aria-label='并入的编号']").input_value() == str(first)  # the entry it resembles
    detail.locator("button", has_text="并入").click()
    page.wait_for_function("!document.querySelector('tr.detail')")
    assert dialogs and f"并入编号 {first}" in dialogs[0]
    assert _api(server, f"/api/entries/{second}")["status"] == "已作废"
    assert any("希望换新电梯" in h["note"] for h in _api(server, f"/api/entries/{first}/history") if h["field"] == "repeat")
    third = _api(server, "/api/classify", {"text": "长青小区12号楼电梯门关不上", "save": True})["entry_id"]
    page.click('.tab[data-view="chat"]')
    send(page, f"{third}号并入{first}号")
    page.wait_for_selector(f".msg.bot:has-text('已把编号 {third} 并入编号 {first}')")
    assert _api(server, f"/api/entries/{third}")["status"] == "已作废"
    send(page, f"{third}号并入{first}号")  # twice: the second says why not
    page.wait_for_selector(".msg.bot:has-text('已归档')")


def test_a_grid_worker_handles_an_entry_on_a_phone(browser, server):
    entry = _api(server, "/api/classify", {"text": "11号楼二单元的声控灯坏了，晚上上楼全靠手机照明", "save": True})["entry_id"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server["url"] + "/")
    page.fill("#token-input", server["token"])
    page.click("#login-form button")
    page.wait_for_selector("#app:not([hidden])")
    # an answer in the chat is a card per entry on the phone: nothing to scroll sideways for (物业 trial)
    send(page, "查找 11号楼二单元")
    page.wait_for_selector("table.answer-table")
    wide = page.evaluate("Math.max(...[...document.querySelectorAll('table.answer-table')].map((t) => t.scrollWidth))")
    assert wide <= page.evaluate("document.documentElement.clientWidth"), wide
    page.click('.tab[data-view="ledger"]')
    row = page.locator("#ledger-table tbody tr", has_text="11号楼二单元")
    row.wait_for()
    width = page.evaluate("document.documentElement.clientWidth")
    button = row.locator("button", has_text="办理")
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 40  # reachable without scrolling
    button.tap()
    area = page.locator("tr.detail textarea")
    a = area.bounding_box()
    assert a["x"] >= 0 and a["x"] + a["width"] <= width  # the reply box fits the screen
    area.fill("已换声控开关")
    save = page.locator("tr.detail button", has_text="保存办理情况")
    save.dblclick()  # a double tap sends once: no false "已被修改" conflict
    page.wait_for_function("!document.querySelector('tr.detail')")
    assert _api(server, f"/api/entries/{entry}")["response"] == "已换声控开关"
    assert not errors
    context.close()


def test_the_back_button_goes_back_to_the_previous_tab(page):
    page.click('.tab[data-view="ledger"]')
    page.click('.tab[data-view="stats"]')
    page.go_back()
    page.wait_for_selector("#view-ledger:not([hidden])")
    page.go_back()
    page.wait_for_selector("#view-chat:not([hidden])")
    page.click('.tab[data-view="ledger"]')
    page.reload()
    page.wait_for_selector("#view-ledger:not([hidden])")  # a reload stays on the tab


def test_a_month_in_the_ledger_the_statistics_and_the_chat(page, server):
    _api(server, "/api/classify", {"text": "2号楼门口的垃圾桶满了没人清", "save": True,
                                   "received_at": "2026-10-15T09:00:00+08:00"})
    page.click('.tab[data-view="ledger"]')
    page.fill("#f-from", "2026-10-01")
    page.fill("#f-to", "2026-10-31")
    page.dispatch_event("#f-to", "change")
    page.wait_for_function("[...document.querySelectorAll('#ledger-table tbody tr')].length === 1")
    assert "2号楼门口的垃圾桶" in page.locator("#ledger-table tbody tr").first.inner_text()
    page.reload()  # the selection survives a reload of the tab
    page.wait_for_selector("#view-ledger:not([hidden])")
    assert page.input_value("#f-from") == "2026-10-01"
    page.wait_for_function("[...document.querySelectorAll('#ledger-table tbody tr')].length === 1")
    page.click('.tab[data-view="stats"]')
    page.fill("#s-month", "2026-10")
    page.dispatch_event("#s-month", "change")
    page.wait_for_function("(document.querySelector('#stat-cards .stat b') || {}).textContent === '1'")
    page.click('.tab[data-view="chat"]')
    send(page, "10月统计")
    page.wait_for_selector(".bot >> text=/年10月受理 \\d+ 条：办结率/")


def test_an_entry_is_looked_up_moved_on_and_visited_from_the_chat(page, server):
    """A grid worker on the phone: 查12号, 12号派单, 12号办结：…, 待回访, 12号回访不满意 …, again 满意, 销号."""
    entry = _api(server, "/api/classify", {"text": "21号楼地下室的排水泵坏了，一下雨就积水", "save": True})["entry_id"]
    send(page, f"查{entry}号")
    card = page.locator(".msg.bot", has=page.locator("table.entry-card")).last
    card.wait_for()
    assert "21号楼地下室" in card.inner_text() and "待派单" in card.inner_text()
    send(page, f"{entry}号派单")
    page.wait_for_selector(f".msg.bot:has-text('编号 {entry} 已改为“已派单”')")
    send(page, f"{entry}号办结：物业已更换排水泵")
    page.wait_for_selector(".msg.bot:has-text('办理情况：物业已更换排水泵')")
    send(page, "待回访")
    page.wait_for_selector(".msg.bot tr:has-text('21号楼地下室'):has-text('物业已更换排水泵')")
    send(page, f"{entry}号回访不满意 下雨还是积水")
    page.wait_for_selector(".msg.bot:has-text('已退回“办理中”')")
    assert _api(server, f"/api/entries/{entry}")["status"] == "办理中"
    send(page, f"{entry}号办结 加装了一台备用泵")
    page.wait_for_selector(".msg.bot:has-text('办理情况：加装了一台备用泵')")
    send(page, f"{entry}号回访基本满意")
    page.wait_for_selector(".msg.bot:has-text('（4 分）')")
    send(page, f"{entry}号销号")
    page.wait_for_selector(f".msg.bot:has-text('编号 {entry} 已改为“已销号”')")
    got = _api(server, f"/api/entries/{entry}")
    assert (got["status"], got["satisfaction"]) == ("已销号", 4)
    send(page, f"{entry}号派单")  # an archived entry cannot go back: the server's sentence is shown
    page.wait_for_selector(".msg.bot:has-text('不能从“已销号”直接改为“已派单”')")
    send(page, "查99999号")
    page.wait_for_selector(".msg.bot:has-text('找不到编号为 99999 的台账记录')")


def test_a_saved_entry_is_corrected_by_its_number_and_a_stray_number_gets_a_hint(page, server):
    """From the hotline-desk trial: "32号改为其他" answered "好的" and changed nothing."""
    entry = _api(server, "/api/classify", {"text": "23号楼东边的草坪被人挖了种葱", "save": True})["entry_id"]
    send(page, f"{entry}号改为物业服务")
    page.wait_for_selector(f".msg.bot:has-text('已更正编号 {entry}：物业服务')")
    got = _api(server, f"/api/entries/{entry}")
    assert got["category"] == "property" and got["corrected"]
    send(page, f"{entry}号改为物业服务")  # the category it has already: nothing to store
    page.wait_for_selector(f".msg.bot:has-text('编号 {entry} 已经是物业服务')")
    send(page, f"{entry}号弄一下")
    page.wait_for_selector(".msg.bot:has-text('没看懂')")


def test_the_ledger_filters_by_the_community_the_tickets_named(page, server, tmp_path):
    csv = tmp_path / "街道工单.csv"
    csv.write_bytes(("诉求地址,所属社区,诉求内容\n"
                     "青石小区2号楼,青石社区,2号楼单元门的闭门器坏了，门关不上\n"
                     "红枫小区2号楼,红枫社区,2号楼门口的下水道堵了，污水往外冒\n").encode("gbk"))
    page.check("#upload-save")
    page.set_input_files("#file", str(csv))
    page.wait_for_selector("text=已存入台账 2 条")
    page.click('.tab[data-view="ledger"]')
    page.wait_for_selector("#f-community:not([hidden])")
    page.select_option("#f-community", "红枫社区")
    page.wait_for_function("() => document.querySelectorAll('#ledger-table tbody tr').length === 1")
    row = page.locator("#ledger-table tbody tr").first
    assert "下水道" in row.inner_text() and "红枫小区2号楼" in row.inner_text()
    page.select_option("#f-community", "")
    page.click('.tab[data-view="stats"]')  # the 统计 tab counts per 社区 and can show one
    page.wait_for_selector("#fig-community:not([hidden])")
    page.select_option("#s-community", "青石社区")
    page.wait_for_function("() => document.querySelector('#stat-cards b') && document.querySelector('#stat-cards b').textContent === '1'")


def test_a_deadline_agreed_with_the_resident_is_set_from_the_ledger(page, server):
    entry = _api(server, "/api/classify", {"text": "15号楼门口的路灯不亮了", "save": True})["entry_id"]
    detail = _open_panel(page, "15号楼门口的路灯")
    import datetime as dt

    later = dt.date.today() + dt.timedelta(days=40)  # a day agreed with the resident, weeks ahead
    detail.locator("input[aria-label='新的办理时限']").fill(f"{later:%Y-%m-%d}")
    detail.locator("input[aria-label='调整原因']").fill("灯杆需整体更换，与居民商定")
    detail.locator("button", has_text="调整时限").click()
    page.wait_for_function("!document.querySelector('tr.detail')")
    got = _api(server, f"/api/entries/{entry}")
    assert got["deadline"].startswith(f"{later:%Y-%m-%d}T18:00")
    history = _api(server, f"/api/entries/{entry}/history")
    assert any(h["field"] == "deadline" and h["note"] == "灯杆需整体更换，与居民商定" for h in history)


def test_commands_in_the_order_staff_say_them_and_a_closing_needs_its_result(page, server):
    """From the grid-worker trial: 派单33号, 查十二号, 帮我查下25号 got a bare 好的; 21号办结 closed an entry on a
    meeting's promise; the day it was done could not be said."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    now = dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    received = (now - dt.timedelta(days=3)).isoformat(timespec="seconds")
    entry = _api(server, "/api/classify", {"text": "26号楼单元门口的地砖翘起来了，老人差点绊倒", "save": True,
                                           "received_at": received})["entry_id"]
    send(page, f"派单{entry}号")
    page.wait_for_selector(f".msg.bot:has-text('编号 {entry} 已改为“已派单”')")
    send(page, f"帮我查下{entry}号")
    page.locator(".msg.bot", has=page.locator("table.entry-card")).last.wait_for()
    send(page, f"{entry}号办结")
    page.wait_for_selector(".msg.bot:has-text('请写明办理结果')")
    assert _api(server, f"/api/entries/{entry}")["status"] == "已派单"
    send(page, f"{entry}号昨天办结：重新铺了地砖")
    page.wait_for_selector(".msg.bot:has-text('办结于昨天')")
    closed = [h for h in _api(server, f"/api/entries/{entry}/history") if h["to_value"] == "已办结"]
    assert closed[-1]["at"][:10] == f"{now - dt.timedelta(days=1):%Y-%m-%d}"  # yesterday, in the community's time


def test_after_a_colleagues_change_the_panel_takes_it_and_keeps_what_was_typed(page, server):
    """From the grid-worker trial: after an edit conflict the entry was not reloaded, so the next try conflicted too."""
    entry = _api(server, "/api/classify", {"text": "27号楼楼道的窗户玻璃碎了一块", "save": True})["entry_id"]
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    detail = _open_panel(page, "27号楼楼道的窗户")
    detail.locator("textarea").fill("已联系物业下午换玻璃")
    _api(server, f"/api/entries/{entry}", {"response": "玻璃已订货"}, method="PATCH")  # a colleague, meanwhile
    detail.locator("button", has_text="保存办理情况").click()
    page.wait_for_function("() => document.querySelector('tr.detail button:not([disabled])')")
    assert dialogs and "玻璃已订货" in dialogs[-1] and detail.locator("textarea").input_value() == "已联系物业下午换玻璃"
    detail.locator("button", has_text="保存办理情况").click()  # the second try goes through
    page.wait_for_function("!document.querySelector('tr.detail')")
    assert _api(server, f"/api/entries/{entry}")["response"] == "已联系物业下午换玻璃"


def test_a_card_holding_two_problems_is_split_from_the_ledger_and_from_the_chat(page, server):
    """拆分: the words selected in the 原文 fill the box; the chat takes 12号拆分：… in the same way."""
    words = "22号楼西边路灯坏了三盏晚上黑乎乎的然后24号楼门口那个井盖翘起来了车一压就响"
    entry = _api(server, "/api/classify", {"text": words, "save": True})["entry_id"]
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    detail = _open_panel(page, "22号楼西边路灯")
    said = detail.locator("p", has_text="原文：")
    said.evaluate("""(p, part) => {  // select the lid's words in the 原文, as a mouse would
        const node = [...p.childNodes].find((n) => n.nodeType === 3 && n.textContent.includes(part));
        const at = node.textContent.indexOf(part), range = document.createRange();
        range.setStart(node, at); range.setEnd(node, at + part.length);
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        p.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
    }""", "24号楼门口那个井盖翘起来了车一压就响")
    assert detail.locator("input[aria-label='要拆出的文字']").input_value() == "24号楼门口那个井盖翘起来了车一压就响"
    detail.locator("button", has_text="拆分").click()
    page.wait_for_function("!document.querySelector('tr.detail')")
    assert any("拆出的问题登记为编号" in d for d in dialogs), dialogs
    assert _api(server, f"/api/entries/{entry}")["text"] == "22号楼西边路灯坏了三盏晚上黑乎乎的"
    page.click('.tab[data-view="chat"]')
    send(page, f"{entry}号拆分：晚上黑乎乎的")
    page.wait_for_selector(f".msg.bot:has-text('已拆分：编号 {entry} 保留')")
    # the words after the colon are sent as written: 二十二号楼 is not turned into 22号楼 (a review found it was)
    other = _api(server, "/api/classify", {"text": "二十二号楼电梯停了三天，二十三号楼门口的井盖翘起来了", "save": True})["entry_id"]
    send(page, f"{other}号拆分：二十三号楼门口的井盖翘起来了")
    page.wait_for_selector(f".msg.bot:has-text('已拆分：编号 {other} 保留')")
    send(page, f"{entry}号拆出来")  # no colon, no words: not a split of "来"
    page.wait_for_selector(".msg.bot:has-text('12号拆分：另一个问题的原话')")
    send(page, f"{entry}号拆分：五栋电梯停了")
    page.wait_for_selector(".msg.bot:has-text('不在这条记录的原文里')")


def test_notes_saved_from_the_page_keep_the_date_the_record_states(page, server):
    """From the 书记 trial: cards shown with the meeting's date were saved with the moment of saving (an issue's own
    received_at, null, overwrote the meeting's), so 办结 on a real earlier day was refused as before receipt."""
    import datetime as dt
    import urllib.parse

    day = dt.date.today() - dt.timedelta(days=12)
    notes = (f"东篱社区板凳会记录\n时间：{day.year}年{day.month}月{day.day}日上午\n"
             "葛大爷（19号楼）：19号楼门口的路灯坏了半个月了，晚上出门摸黑。\n物业小童：这周就换。\n")
    send(page, notes)
    card = page.wait_for_selector(".card:has-text('19号楼门口的路灯')")
    assert f"{day:%Y-%m-%d} 09:00" in card.inner_text()  # the card says which day it counts from (受理)
    send(page, "全部保存")
    page.wait_for_selector("text=已存入台账")
    [entry] = _api(server, "/api/entries?q=" + urllib.parse.quote("19号楼门口的路灯"))["items"]
    assert entry["received_at"].startswith(f"{day:%Y-%m-%d}"), entry["received_at"]


def test_a_directors_questions_about_the_ledger_are_answered_not_filed(page, server):
    """From the 书记 trial: "物业的还有几件没办完" became a problem card and was saved with the next 全部保存."""
    entry = _api(server, "/api/classify", {"text": "31号楼楼道灯坏了好几天", "save": True})["entry_id"]
    cards = page.locator(".card").count()
    for question, reply in (("物业的还有几件没办完", "物业服务企业、未办结：共"),
                            ("上个月的满意率", "满意率"),
                            ("本月逾期的有哪些", "逾期或将逾期"),
                            ("查找 31号楼楼道灯", "含“31号楼楼道灯”：共 1 条"),
                            ("31号楼楼道灯的事怎么样了", "含“31号楼楼道灯”：共 1 条")):
        before = page.locator(".msg.bot").count()
        send(page, question)
        page.wait_for_function(f"document.querySelectorAll('.msg.bot').length > {before}")
        page.wait_for_selector(f".msg.bot:has-text('{reply}')")
    assert page.locator(".card").count() == cards  # nothing became a problem card
    send(page, f"{entry}号责任主体改为街道综合执法队")  # not a unit the ledger knows: named, not swapped for another
    page.wait_for_selector(".msg.bot:has-text('不认识责任主体“街道综合执法队”')")
    assert _api(server, f"/api/entries/{entry}")["owner"] == "物业服务企业"


def test_visits_said_as_on_the_phone_and_why_a_closing_needs_one(page, server):
    """From the 书记 trial: "3号电话回访了，钱师傅很满意", "2号回访：居民说基本满意" were not understood, and 销号 straight
    after 办结 did not say that a 回访 comes first."""
    ids = [_api(server, "/api/classify", {"text": t, "save": True})["entry_id"] for t in ("51号楼门禁坏了", "52号楼门禁坏了")]
    for entry in ids:
        _api(server, f"/api/entries/{entry}/status", {"status": "已办结", "note": "已换读卡器"})
    send(page, f"{ids[0]}号销号")
    page.wait_for_selector(".msg.bot:has-text('销号前要先回访')")
    send(page, f"{ids[0]}号电话回访了，钱师傅很满意")
    page.wait_for_selector(f".msg.bot:has-text('已记下编号 {ids[0]} 的回访：满意（5 分）')")
    send(page, f"{ids[1]}号回访：居民说基本满意")
    page.wait_for_selector(f".msg.bot:has-text('已记下编号 {ids[1]} 的回访：基本满意（4 分）')")
    assert [_api(server, f"/api/entries/{e}")["satisfaction"] for e in ids] == [5, 4]
    # "不太满意" is unhappy, not 满意 (a review found it read as 5): the entry goes back to 办理中
    third = _api(server, "/api/classify", {"text": "53号楼门禁坏了", "save": True})["entry_id"]
    _api(server, f"/api/entries/{third}/status", {"status": "已办结", "note": "已换读卡器"})
    send(page, f"{third}号回访：他不太满意，说刷卡还是不灵")
    page.wait_for_selector(f".msg.bot:has-text('编号 {third} 回访不太满意（2 分）')")
    got = _api(server, f"/api/entries/{third}")
    assert got["status"] == "办理中"


def test_the_community_of_an_entry_from_notes_is_set_in_its_panel(page, server):
    entry = _api(server, "/api/classify", {"text": "61号楼楼下的健身器材坏了", "save": True})["entry_id"]
    detail = _open_panel(page, "61号楼楼下的健身器材")
    detail.locator("input[aria-label='所属社区']").fill("东湖社区")
    detail.locator("button", has_text="保存社区").click()
    page.wait_for_function("!document.querySelector('tr.detail')")
    assert _api(server, f"/api/entries/{entry}")["community"] == "东湖社区"


def test_a_directors_everyday_wording_for_exports_voids_and_merges(page, server):
    """From the 书记 trial: 导出本月台账, 作废17号, 32和22是同一件事 and 把32号并到22号 were not understood."""
    first = _api(server, "/api/classify", {"text": "71号楼门口的井盖松了，一踩就响", "save": True})["entry_id"]
    second = _api(server, "/api/classify", {"text": "71号楼门口那块井盖还是松的，车一压哐当响", "save": True})["entry_id"]
    third = _api(server, "/api/classify", {"text": "72号楼楼道灯不亮", "save": True})["entry_id"]
    with page.expect_download() as info:
        send(page, "导出本月台账")
    assert info.value.suggested_filename.endswith(".xlsx") and "-" in info.value.suggested_filename
    send(page, f"作废{third}号")
    page.wait_for_selector(f".msg.bot:has-text('作废要写明原因，例如：{third}号作废')")
    send(page, f"{third}号作废：录入错误")
    page.wait_for_selector(f".msg.bot:has-text('编号 {third} 已改为“已作废”')")
    send(page, f"{second}和{first}是同一件事")
    page.wait_for_selector(f".msg.bot:has-text('已把编号 {second} 并入编号 {first}')")
    assert _api(server, f"/api/entries/{second}")["status"] == "已作废"


def test_a_property_managers_everyday_words(page, server):
    """From the 物业 trial: 6栋电梯的事怎么样了 missed "6栋2单元电梯"; 3号办好了 换了灯泡 was not understood;
    2号办理中：… left 办理情况 empty; 5号办理情况：… was offered for registration as a problem."""
    lift = _api(server, "/api/classify", {"text": "96栋2单元电梯又停了，楼上老人下不来", "save": True})["entry_id"]
    lamp = _api(server, "/api/classify", {"text": "97栋楼道灯不亮", "save": True})["entry_id"]
    send(page, "96栋电梯的事怎么样了")
    page.wait_for_selector(".msg.bot:has-text('含“96栋 电梯”：共 1 条')")
    send(page, f"{lift}号办理中：维修组老周已上门，等配件")
    page.wait_for_selector(f".msg.bot:has-text('编号 {lift} 已改为“办理中”，办理情况：维修组老周已上门，等配件')")
    send(page, f"{lamp}号办理情况：已报维修组")
    page.wait_for_selector(f".msg.bot:has-text('已记下编号 {lamp} 的办理情况')")
    # a team inside the 物业 takes it: written into 办理情况 and found by its name
    send(page, f"{lift}号交给维修组李师傅，明天上午去")
    page.wait_for_selector(f".msg.bot:has-text('编号 {lift} 由维修组李师傅承办')")
    send(page, "查找 李师傅")
    page.wait_for_selector(".msg.bot:has-text('含“李师傅”：共 1 条')")
    send(page, f"{lift}号办理中：配件到了，下午装")  # already 办理中: the progress is added, not refused
    page.wait_for_selector(f".msg.bot:has-text('编号 {lift} 仍在办理中，已记下进展')")
    assert "维修组李师傅" in _api(server, f"/api/entries/{lift}")["response"]
    send(page, f"{lift}号修好了吗")  # a question shows the entry, it does not close it
    page.wait_for_selector(f".msg.bot:has-text('编号 {lift}：')")
    assert _api(server, f"/api/entries/{lift}")["status"] == "办理中"
    stall = _api(server, "/api/classify", {"text": "98栋门口马路上有人摆摊占道经营", "save": True})["entry_id"]
    send(page, f"{stall}号派给城管中队，马路上的占道归城管")  # another body: a handover, not a team of the 物业
    page.wait_for_selector(f".msg.bot:has-text('编号 {stall} 已转交')")
    assert "城管" in _api(server, f"/api/entries/{stall}")["owner"]
    # 回访 as said on the phone, the verdict at the end and a floor number before it (the voice trial)
    visited = _api(server, "/api/classify", {"text": "99栋楼道灯闪个不停", "save": True})["entry_id"]
    _api(server, f"/api/entries/{visited}/status", {"status": "已办结", "note": "换了灯管"})
    before = page.locator(".card").count()
    send(page, f"{visited}号回访 3楼那户说灯是亮了 但是五楼那个还是一闪一闪的 不太满意")
    page.wait_for_selector(f".msg.bot:has-text('编号 {visited} 回访不太满意（2 分）')")
    assert page.locator(".card").count() == before  # no new problem card
    assert _api(server, f"/api/entries/{visited}")["status"] == "办理中"
    send(page, "96栋电梯修好了没有")  # a question about the ledger, not a problem to file
    page.wait_for_selector(".msg.bot:has-text('含“96栋 电梯”')")
    send(page, "这周物业要办的")
    page.wait_for_selector(".msg.bot:has-text('物业服务企业、本周到期（含已逾期）')")
    send(page, "我这周要办的")
    page.wait_for_selector(".msg.bot:has-text('本周到期（含已逾期）')")
    send(page, f"{lamp}号办好了 换了灯泡")
    page.wait_for_selector(f".msg.bot:has-text('编号 {lamp} 已改为“已办结”')")
    send(page, f"{lamp}号昨天办结：换了灯泡")  # already closed: how to put the day right
    page.wait_for_selector(f".msg.bot:has-text('要更正办结时间：先输入“{lamp}号办理中”')")
    assert _api(server, f"/api/entries/{lamp}")["response"] == "换了灯泡"
    page.click('.tab[data-view="ledger"]')
    page.select_option("#f-status", "未办结")
    page.wait_for_function("(() => { const rows = [...document.querySelectorAll('#ledger-table tbody tr')];"
                           " return rows.some((r) => r.textContent.includes('96栋2单元电梯'))"
                           " && !rows.some((r) => r.textContent.includes('97栋楼道灯')); })()")


def test_saving_a_likely_repeat_says_so_in_the_chat(page, server):
    """From the phone trial: the 疑似重复 flag showed only in the export; the save reply now names it and how to merge."""
    first = _api(server, "/api/classify", {"text": "81号楼门口电动车乱停，把单元门都堵住了", "save": True})["entry_id"]
    send(page, "张阿姨（81号楼）：81号楼门口的电动车停得乱七八糟，推婴儿车都过不去")
    page.wait_for_selector(".card:has-text('推婴儿车都过不去')")
    send(page, "全部保存")
    page.wait_for_selector(f".msg.bot:has-text('与编号 {first} 相近（疑似重复')")


def test_cards_are_merged_and_split_before_saving(page, server):
    """Staff put two cards of one problem together, and take a second problem out of a card, before saving."""
    send(page, NOTES)
    page.wait_for_selector('.card[data-n]')
    first = int(page.locator(".card").first.get_attribute("data-n"))
    a, b = first + 1, first + 2  # the 8号楼 and 3号楼 lifts: here as one problem, to show the merge
    send(page, f"第{b}条并入第{a}条")
    page.wait_for_selector(f"text=已把第{b}条并入第{a}条")
    merged = page.locator(f'.card[data-n="{a}"]')
    assert page.locator(f'.card[data-n="{b}"]').count() == 0 and merged.locator(".quote").count() == 2
    assert "提出 2 次" in merged.inner_text()
    send(page, f"第{first}条拆分：好多人只好把电瓶拎上楼充")
    page.wait_for_selector(f"text=已从第{first}条拆出")
    made = page.locator(".card").last
    assert made.locator(".quote").inner_text() == "“好多人只好把电瓶拎上楼充”"
    assert "电瓶拎上楼" not in page.locator(f'.card[data-n="{first}"] .quote').first.inner_text()
    send(page, f"第{first}条拆分：没有这句话")
    page.wait_for_selector("text=原话里没有“没有这句话”")
    send(page, f"第{a}条和第{a}条是同一件事")
    page.wait_for_selector(f"text=第{a}条不能并入它自己")


def test_two_cards_that_may_be_one_problem_are_named_with_the_command(page, server):
    send(page, "2024-09-02 07:15 12-1-1801 老赵\n18楼早上水龙头就一点点细流，洗个脸都费劲，这都第三天了\n\n"
               "2024-09-02 12:30 2-2-1103 Lily\n2号楼楼下有人扔垃圾，差点砸到人\n\n"
               "2024-09-02 18:40 12-2-1602 Amy\n12号楼高层水压是真不行，我家16楼晚上洗澡水时大时小\n")
    hint = page.wait_for_selector("text=可能是同一个问题")
    command = hint.inner_text().split("请输入：")[1]
    send(page, command)
    page.wait_for_selector("text=并入第")
    first = int(command.split("条")[0].lstrip("第"))
    assert page.locator(f'.card[data-n="{first}"] .quote').count() == 2


def test_an_administrator_retrains_from_the_chat(browser, tmp_path, monkeypatch):
    """From the 街道 desk trial: the admin found no way to retrain from the page."""
    import service.registry as registry
    from triage import load_examples
    from triage.examples import default_training_files

    monkeypatch.setattr(registry, "load_examples",  # a small base keeps the test fast; the loop is what is tested
                        lambda files, taxonomy: [e for i, e in enumerate(load_examples(files, taxonomy)) if i % 8 == 0])
    with live_server(tmp_path / "data", "admin", "刘敏") as (url, token, _settings):
        context, page = _signed_in(browser, url, token)
        assert page.input_value("#token-input") == ""  # not left in the page of a shared computer
        before = page.inner_text("#model-version")
        send(page, "重新训练")
        page.wait_for_selector("text=没有新的内容可学")
        send(page, "登记：楼道里堆满了纸箱子和旧沙发")
        page.wait_for_selector(".card")
        chip = page.locator(".card .chip").first.inner_text()
        send(page, "第1条改为" + ("环境卫生" if chip == "安全隐患" else "安全隐患"))
        page.wait_for_selector("text=更正已记录")
        send(page, "重新训练")
        done = page.wait_for_selector("text=条评估样本上", timeout=120_000).inner_text()
        send(page, "模型版本")
        page.wait_for_selector("text=个模型版本")
        assert page.locator(".answer-table tr").count() >= 3  # the header, the shipped model, the new one
        if done.startswith("已启用新模型"):
            assert page.inner_text("#model-version") != before
        context.close()


def test_a_hotline_desks_questions_name_the_source_and_the_days(page, server):
    """From the 街道 desk trial: "导出11月16日到22日的工单" exported the whole month; 上周 was not understood."""
    send(page, "导出11月16日到22日的工单")
    page.wait_for_selector("text=正在导出12345工单（批量导入）、11月16日至11月22日受理的台账")
    send(page, "上周收了多少件12345")
    page.wait_for_selector("text=上周（")
    send(page, "导出上周台账")
    page.wait_for_selector("text=/正在导出上周（.*）受理的台账/")


def test_a_secretary_of_one_community_starts_on_her_own(browser, tmp_path):
    """From the admin trial: a 书记 of 西岭社区 opened the 台账 on all three 社区 and exported them all."""
    from service.store import Store

    with live_server(tmp_path / "data", "admin", "周磊") as (url, admin, settings):
        with Store(settings.database) as store:
            token = store.create_token("staff", "李红", "西岭社区")
            store.create_token("staff", "赵刚", "东湖社区")
        context, page = _signed_in(browser, url, token)
        assert "西岭社区" in page.inner_text("#model-version")
        send(page, "登记：3号楼楼道灯坏了一个星期")
        page.wait_for_selector(".card")
        send(page, "全部保存")
        page.wait_for_selector("text=已存入台账")
        page.click("[data-view=ledger]")
        page.wait_for_function("document.querySelector('#f-community').value === '西岭社区'")
        page.click("[data-view=chat]")
        with page.expect_download() as info:
            send(page, "导出本月台账")
        assert "西岭社区" in info.value.suggested_filename
        page.wait_for_selector("text=正在导出西岭社区")
        context.close()


def test_a_viewer_sees_no_controls_that_would_be_refused(browser, tmp_path):
    """From the admin trial: a 物业 manager with a viewer token met 权限不足 on every control he tried."""
    from service.store import Store

    with live_server(tmp_path / "data", "staff", "李红") as (url, staff, settings):
        with Store(settings.database) as store:
            viewer = store.create_token("viewer", "物业经理")
        context, page = _signed_in(browser, url, viewer)
        assert page.evaluate("document.body.classList.contains('viewer')")
        assert not page.is_visible(".upload-save")
        context.close()
