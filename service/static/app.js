// Chat page of 社区问题分拣助手. Plain JS, no build step. Every text from residents or the server
// is put into the page with textContent (never innerHTML), so "<script>" shows as text.
"use strict";

// The token lives in this tab only (sessionStorage): closing the tab signs out, so the next person at a
// shared 居委会 computer does not work as the last one (an admin trial found localStorage kept it).
localStorage.removeItem("triage-token");  // what an older version left behind
const state = { token: sessionStorage.getItem("triage-token") || "", taxonomy: null, cards: [], statuses: [] };
const STATUSES = ["待派单", "已派单", "办理中", "已办结", "已回访", "已销号", "已作废"];
const OWNERS = [];  // the owners the server accepts, from /api/taxonomy at login
const HELP = [
  "您可以：",
  "· 粘贴板凳会/议事会纪要、巡查日志或工单汇总 → 我列出其中的问题；",
  "· 输入一条居民诉求 → 我给出类别、责任主体和办理时限；",
  "· 点“上传纪要”上传 Word (.docx) 或文本的会议纪要 → 同粘贴一样列出问题；",
  "· 点“上传工单表”上传 CSV / Excel / JSONL → 批量分类并提供下载。",
  "命令：",
  "· 第2条改为宠物 —— 更正第2条的类别（会重新派单并记录更正）",
  "· 第3条责任主体改为社区 —— 更改责任主体",
  "· 删除第2条 —— 从本次结果中去掉一条（不是问题的、重复的）",
  "· 第2条和第5条是同一件事 / 第5条并入第2条 —— 把本次结果里的两条合成一条（保存前）",
  "· 第3条拆分：五栋电梯停了 —— 第3条里混进了另一个问题：把那段原话另立一条（保存前）",
  "· 登记：内容 —— 没被识别为问题的一句话，强制登记为一条",
  "· 全部保存 / 入台账 —— 把本次结果存入问题台账",
  "· 导出台账 —— 下载 Excel 台账；导出本月台账 / 导出东湖社区11月台账 / 导出物业逾期的 —— 只导出选中的",
  "· 物业的还有几件没办完 / 本月逾期的有哪些 / 上个月的满意率 / 查找 广场舞 / 12栋电梯的事怎么样了 —— 直接问台账",
  "· 逾期 —— 查看逾期和将要逾期的问题",
  "· 本周统计 —— 查看统计图表；本月统计 / 上月统计 / 11月统计 —— 当月办结率、满意率",
  "· 待审核 —— 列出模型最没把握、最值得人工确认的记录",
  "· 12号并入8号 —— 台账编号12与编号8是同一问题：12作废，内容记为8的一次重复反映",
  "· 12号拆分：五栋电梯停了 —— 编号12里混进了另一个问题：把那段原话（从原文复制）另立一条，重新分类派单",
  "· 上传记录 —— 最近上传的工单表和台账，传错了可以整批撤销",
  "· 查12号 —— 看台账编号12的状态、办理情况和最近的办理记录",
  "· 12号改为其他 / 12号责任主体改为社区 —— 更正台账里已保存的记录（用台账编号）",
  "· 12号派单 / 12号办理中 / 12号办结：已更换水泵 / 12号销号 / 12号作废：重复登记 —— 在聊天里推进办理状态",
  "· 待回访 —— 已办结、等待回访的问题和反映人；回访后输入：12号回访满意 / 12号回访不满意 还是漏水",
  "· 重新训练 —— （管理员）用大家的更正训练新模型，评估不比原来差才启用；模型版本 / 回滚模型",
  "· 帮助 —— 显示本说明",
].join("\n");

const $ = (sel) => document.querySelector(sel);
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
function fmtTime(iso) {
  // Shown in the community's timezone (from the taxonomy), whatever the browser's own clock says.
  if (!iso) return "—";
  const tz = (state.taxonomy && state.taxonomy.timezone) || "Asia/Shanghai";
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}
function catName(code) {
  const c = state.taxonomy && state.taxonomy.categories.find((x) => x.code === code);
  return c ? c.name : code;
}

async function showWho() {  // who is signed in and which model answers (after a retrain or rollback too)
  const health = await (await fetch("/api/health")).json();
  const who = await api("/api/me");
  state.role = who.role;
  // a viewer (a 物业 manager reading along) sees no controls that would only end in 权限不足 (admin trial)
  document.body.classList.toggle("viewer", who.role === "viewer");
  state.community = who.community || null;  // a 书记's own 社区: her ledger and exports start there
  $("#model-version").textContent = `${who.name}（${who.role_name}权限${who.community ? "，" + who.community : ""}）`
    + ` · 模型 ${health.model_version}`;
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.token}` }, options.headers || {});
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401) {
    let why = "登录已失效，请重新输入令牌。";
    try { const d = (await res.json()).detail; if (d) why = `${d}（本页未保存的问题卡片已清除）`; } catch (_) { /* not JSON */ }
    logout(why);
    throw new Error("需要重新登录");
  }
  if (!res.ok) {
    let detail = `请求失败（${res.status}）`;
    try { detail = (await res.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw Object.assign(new Error(detail), { status: res.status });
  }
  return options.raw ? res : res.json();
}

// ---------- login ----------
async function login(token) {
  state.token = token;
  state.taxonomy = await api("/api/taxonomy");
  // every owner the taxonomy routes to, plus its `owners` list
  OWNERS.splice(0, OWNERS.length, ...state.taxonomy.owners);
  sessionStorage.setItem("triage-token", token);
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#token-input").value = "";  // a shared office computer: the token is not left in the page
  await showWho();
  fillFilters();
  if (!$("#messages").children.length) botText("您好！请粘贴会议纪要或居民诉求，或输入“帮助”查看可用命令。");
  restoreCards();
  if (location.hash) showView(location.hash.slice(1));
}
function logout(message) {
  sessionStorage.removeItem("triage-token");
  state.token = "";
  state.cards = [];
  sessionStorage.removeItem("triage-cards");
  sessionStorage.removeItem("triage-last-card");
  sessionStorage.removeItem("triage-filters");
  $("#token-input").value = "";
  $("#messages").replaceChildren();  // the next person at a shared computer must not see residents' words
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
}
$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = $("#token-input").value.trim();
  if (!/^[\x21-\x7e]+$/.test(token)) { logout("令牌格式不对：令牌以 tri_ 开头，只含英文字母、数字和符号。"); return; }
  try { await login(token); }
  catch (err) { logout(err.message === "需要重新登录" ? "令牌无效，请检查后重试。" : err.message); }
});
$("#logout").addEventListener("click", () => logout(""));

// ---------- chat ----------
function scrollDown() { const m = $("#messages"); m.scrollTop = m.scrollHeight; }
function userText(text) { $("#messages").append(el("div", { class: "msg user", text })); scrollDown(); }
function botText(text) { const n = el("div", { class: "msg bot narrow", text }); $("#messages").append(n); scrollDown(); return n; }
function botNode(...children) { const n = el("div", { class: "msg bot" }, ...children); $("#messages").append(n); scrollDown(); return n; }

function categorySelect(card) {
  const select = el("select", { "aria-label": "更改类别", class: "cat-select" });
  for (const c of state.taxonomy.categories) {
    const opt = el("option", { value: c.code, text: c.name });
    if (c.code === card.category) opt.selected = true;
    select.append(opt);
  }
  select.addEventListener("change", () => correct(card, select.value, null));
  return select;
}
function ownerSelect(card) {
  const select = el("select", { "aria-label": "更改责任主体", class: "owner-select" });
  const owners = OWNERS.includes(card.owner) ? OWNERS : [card.owner, ...OWNERS];
  for (const o of owners) {
    const opt = el("option", { value: o, text: o });
    if (o === card.owner) opt.selected = true;
    select.append(opt);
  }
  select.addEventListener("change", () => correct(card, card.category, select.value));
  return select;
}

function renderCard(card) {
  const head = el("div", { class: "card-head" },
    el("span", { class: "num", text: `第${card.n}条` }),
    el("span", { class: "chip", text: card.category_name }),
    card.urgent ? el("span", { class: "badge urgent", text: "紧急" }) : null,
    card.needs_review ? el("span", { class: "badge review", text: "待复核" }) : null,
    card.entry_id ? el("span", { class: "badge saved", text: `已入台账 #${card.entry_id}` }) : null);
  const meta = el("div", { class: "meta" },
    el("span", { text: "类别" }), categorySelect(card),
    el("span", { text: "责任主体" }), el("span", {}, ownerSelect(card), card.co_owners && card.co_owners.length ? ` 协办：${card.co_owners.join("、")}` : ""),
    // which day it counts from: a week's log gives each finding its own day (网格员 phone trial)
    card.received_at ? el("span", { text: "受理" }) : null,
    card.received_at ? el("span", { class: "received", text: fmtTime(card.received_at) }) : null,
    el("span", { text: "办理时限" }), el("span", { class: "deadline", text: card.deadline ? fmtTime(card.deadline) : "无（转办）" }),
    el("span", { text: "把握" }), el("span", { text: `${Math.round((card.confidence || 0) * 100)}%` }),
    card.location ? el("span", { text: "地点" }) : null, card.location ? el("span", { text: card.location }) : null,
    card.speakers && card.speakers.length ? el("span", { text: "提出人" }) : null,
    card.speakers && card.speakers.length ? el("span", { text: card.speakers.join("、") + (card.mentions > 1 ? `（提出 ${card.mentions} 次）` : "") }) : null);
  const node = el("div", { class: "card" + (card.needs_review ? " review" : ""), "data-n": card.n },
    head, el("div", { class: "summary", text: card.summary }), meta,
    ...(card.quotes || []).map((q) => el("blockquote", { class: "quote", text: `“${q}”` })),
    card.response ? el("div", { class: "response", text: `答复：${card.response}` }) : null);
  card.node = node;
  return node;
}
function refreshCard(card) {
  const old = card.node;
  const fresh = renderCard(card);  // renderCard points card.node at the new element
  if (old) old.replaceWith(fresh);
  persistCards();
}
// This tab's cards survive a reload (sessionStorage: this tab only, gone when it closes or on 退出).
function persistCards() {
  sessionStorage.setItem("triage-cards", JSON.stringify(state.cards, (k, v) => (k === "node" ? undefined : v)));
}
function restoreCards() {
  let cards = [];
  try { cards = JSON.parse(sessionStorage.getItem("triage-cards") || "[]"); } catch (_) { cards = []; }
  if (!cards.length || state.cards.length) return;
  const box = el("div", { class: "cards" });
  for (const card of cards) { state.cards.push(card); box.append(renderCard(card)); }
  const unsaved = cards.filter((c) => !c.entry_id).length;
  botNode(el("div", { text: `刷新前的 ${cards.length} 条问题已恢复（其中 ${unsaved} 条尚未存入台账），编号不变。` }), box);
}

function nextCardNumber() {  // kept for this tab, so a deleted or merged card's number is never given again
  const shown = state.cards.reduce((m, c) => Math.max(m, c.n), 0);
  return Math.max(shown, Number(sessionStorage.getItem("triage-last-card") || 0)) + 1;
}
// The issues as new cards (returned, in order), numbered after every card this tab has shown.
function showIssues(issues, received) {
  if (!issues.length) { botText("没有发现需要办理的问题（问候、答复和通知不算问题）。"); return []; }
  const start = nextCardNumber() - 1;  // numbers never repeat, even after 删除 or a merge of the last card
  const box = el("div", { class: "cards" });
  const made = issues.map((issue, i) => {
    // the meeting's date unless the finding has its own time (a walk log's line); an issue's null must not win
    const card = Object.assign({ n: start + i + 1 }, issue, { received_at: issue.received_at || received });
    state.cards.push(card);
    box.append(renderCard(card));
    return card;
  });
  sessionStorage.setItem("triage-last-card", String(start + issues.length));
  persistCards();
  botNode(el("div", { text: `共 ${issues.length} 个问题。可直接在卡片上改类别或责任主体，或输入“全部保存”存入台账。` }), box);
  return made;
}

// Cards from /api/extract; when the record states its meeting date, deadlines count from that day.
function showExtracted(out, pasted) {
  const received = out.received_at || pasted;
  if (out.issues.length && fmtTime(received).slice(0, 10) !== fmtTime(pasted).slice(0, 10)) {
    botText(`纪要写明的日期是 ${fmtTime(received).slice(0, 10)}：受理时间和办理时限从这一天算起。`);
  }
  const made = showIssues(out.issues, received);
  for (const [i, j] of out.likely_repeats || []) {  // kept apart by the reading, but maybe one problem
    const [a, b] = [made[i].n, made[j].n];
    botText(`第${a}条和第${b}条可能是同一个问题（同类、同一地点、说的是同一样东西）。是的话请输入：第${a}条和第${b}条是同一件事`);
  }
  if ((out.beyond || []).length) {  // not community business and not passed on: said, not silently dropped
    botText(`另有 ${out.beyond.length} 件不属于社区办理的事项，没有列为问题：` + out.beyond.map((b) => `“${b}”`).join("；")
      + "。如需登记跟进，请输入“登记：”加内容。");
  }
  if ((out.unlisted || []).length) {  // a request or question nobody filed: a worker should not miss it (书记 trial)
    botText(`另有 ${out.unlisted.length} 句居民的请求或提问没有列为问题，请看一下是否要跟进：` + out.unlisted.map((b) => `“${b}”`).join("；")
      + "。要登记的，请输入“登记：”加内容。");
  }
}

async function sendText(text, force = false) {
  const lines = text.split(/\n/).filter((l) => l.trim()).length;
  const received = new Date().toISOString();
  const thinking = botText("正在分析…");
  try {
    if (!force) {
      const out = await api("/api/extract", { method: "POST", json: { text } });
      thinking.remove();
      if (out.issues.length || lines > 1) return showExtracted(out, received);
      if (/^\s*(?:第\s*)?[\d一二两三四五六七八九十]+\s*[号条个](?![楼院门栋线铺店棚库地口])/.test(text) && text.length <= 30) {
        // looks like a command about an entry or a card, but none matched: say so, never a bare "好的"
        return botText(`没看懂“${text}”。台账里的记录用编号：查12号、12号改为其他、12号办结：结果、12号回访满意、12号拆分：另一个问题的原话；`
          + "本次结果里的卡片用第几条：第2条改为宠物、删除第2条。输入“帮助”看全部说法。");
      }
      if (text.length < 8 || /^(好的?|谢谢|感谢|收到|嗯|哦|ok|你好|您好|再见)/i.test(text)) return botText("好的。有问题请直接说，或粘贴纪要。");
      return botText("没有发现需要登记的问题（问候、致谢、命令和工作人员答复不算）。\n"
        + "如果这确实是一件诉求，请输入“登记：”加内容，例如：登记：" + text.slice(0, 20));
    }
    const r = await api("/api/classify", { method: "POST", json: { text } });
    thinking.remove();
    showIssues([{ summary: r.text.slice(0, 60), category: r.category, category_name: r.category_name, secondary: r.secondary,
      urgent: r.urgent, owner: r.owner, co_owners: r.co_owners, deadline: r.deadline, location: r.location, speakers: [],
      mentions: 1, quotes: [r.text], response: null, confidence: r.confidence, needs_review: r.needs_review, notes: r.notes }], received);
  } catch (err) { thinking.textContent = `出错了：${err.message}`; }
}

async function saveCards(cards) {
  const todo = cards.filter((c) => !c.entry_id);
  if (!todo.length) return 0;
  const payload = todo.map((c) => ({ summary: c.summary, category: c.category, category_name: c.category_name,
    secondary: c.secondary || [], urgent: !!c.urgent, owner: c.owner, co_owners: c.co_owners || [], deadline: c.deadline,
    location: c.location, speakers: c.speakers || [], mentions: c.mentions || 1, quotes: c.quotes || [], response: c.response,
    confidence: c.confidence || 0, needs_review: !!c.needs_review, notes: c.notes || [], received_at: c.received_at }));
  const saved = await api("/api/entries", { method: "POST", json: { issues: payload } });
  saved.forEach((entry, i) => {
    // a card already in the ledger shows the ledger's current answer (a colleague may have corrected it)
    Object.assign(todo[i], { entry_id: entry.id, updated: entry.updated },
      entry.already ? { category: entry.category, category_name: entry.category_name, owner: entry.owner,
        co_owners: entry.co_owners, deadline: entry.deadline, urgent: entry.urgent } : {});
    refreshCard(todo[i]);
  });
  const already = saved.filter((e) => e.already);
  if (already.length) {
    const ids = already.map((e) => (e.status === "待派单" || e.status === "已派单" || e.status === "办理中") ? `${e.id}` : `${e.id}（${e.status}）`);
    botText(`其中 ${already.length} 条台账中已有（编号 ${ids.join("、")}），没有重复登记。`);
  }
  // a new entry close to an open one is flagged 疑似重复 in its notes: say so here, with the way to merge it
  const alike = saved.filter((e) => !e.already).map((e) => [e.id, (e.notes || []).map((n) => /疑似重复：与台账第 (\d+) 条相近/.exec(n)).find(Boolean)])
    .filter(([, m]) => m);
  if (alike.length) {
    botText(`其中 ${alike.map(([id, m]) => `编号 ${id} 与编号 ${m[1]}`).join("、")} 相近（疑似重复，已标待复核）。`
      + `确是同一问题的，请输入“${alike[0][0]}号并入${alike[0][1][1]}号”。`);
  }
  return saved.length - already.length;
}

async function correct(card, category, owner) {
  if (category === card.category && (!owner || owner === card.owner)) {
    return botText(`第${card.n}条已经是“${card.category_name}”${owner ? `，责任主体 ${owner}` : ""}，不用更正。`);
  }
  try {
    const wasSaved = !!card.entry_id;
    if (!wasSaved) await saveCards([card]);  // a correction is stored against a ledger entry
    const body = Object.assign({ category, seen: card.updated }, owner ? { owner } : {});
    const entry = await api(`/api/entries/${card.entry_id}/correct`, { method: "POST", json: body });
    Object.assign(card, { updated: entry.updated, category: entry.category, category_name: entry.category_name, owner: entry.owner,
      co_owners: entry.co_owners, deadline: entry.deadline, urgent: entry.urgent, needs_review: false });
    refreshCard(card);
    botText(`已更正第${card.n}条：${entry.category_name}，责任主体 ${entry.owner}，办理时限 ${entry.deadline ? fmtTime(entry.deadline) : "无"}。更正已记录，用于改进模型。`
      + (wasSaved ? "" : `（更正要记在台账记录上，这一条已同时存入台账，编号 ${entry.id}。）`));
  } catch (err) { botText(`更正失败：${err.message}`); refreshCard(card); }
}

// Two cards of one result are one problem: `other`'s words, people and places go to `into`, which stays.
function mergeCards(other, into) {
  if (other === into) throw new Error(`第${into.n}条不能并入它自己。`);
  if (other.entry_id || into.entry_id) {
    const saved = [other, into].filter((c) => c.entry_id).map((c) => `第${c.n}条（编号 ${c.entry_id}）`).join("、");
    throw new Error(`${saved}已存入台账，请用台账编号合并，例如：${other.entry_id || "12"}号并入${into.entry_id || "8"}号。`);
  }
  const union = (x, y) => [...new Set([...(x || []), ...(y || [])])];
  const earliest = (x, y) => (!x ? y : !y ? x : (new Date(x) <= new Date(y) ? x : y));
  into.quotes = union(into.quotes, other.quotes);
  into.speakers = union(into.speakers, other.speakers);
  into.mentions = (into.mentions || 1) + (other.mentions || 1);
  into.location = union((into.location || "").split("、").filter(Boolean), (other.location || "").split("、").filter(Boolean)).join("、") || null;
  into.response = union(into.response ? [into.response] : [], other.response ? [other.response] : []).join(" ") || null;
  into.urgent = !!(into.urgent || other.urgent);
  into.deadline = earliest(into.deadline, other.deadline);  // the sooner 时限 of the two stands
  into.received_at = earliest(into.received_at, other.received_at);
  // said without the chat's card numbers, which mean nothing once saved (网格员 phone trial)
  into.notes = union(into.notes, ["保存前由工作人员合并了同一问题的另一张卡片（原话已并入）"]);
  state.cards = state.cards.filter((c) => c !== other);
  if (other.node) other.node.remove();
  refreshCard(into);
  botText(`已把第${other.n}条并入第${into.n}条：原话 ${into.quotes.length} 段，提出 ${into.mentions} 次`
    + `${into.deadline ? `，办理时限 ${fmtTime(into.deadline)}` : ""}。其余各条编号不变。`);
}
// A card holding two problems: the words given (copied from its 原话) become a card of their own,
// classified and routed from the same receipt time.
async function splitCard(card, words) {
  if (card.entry_id) throw new Error(`第${card.n}条已存入台账（编号 ${card.entry_id}），请用：${card.entry_id}号拆分：${words}`);
  const at = (card.quotes || []).findIndex((q) => q.includes(words));
  if (at < 0) throw new Error(`第${card.n}条的原话里没有“${words}”。请从卡片的原话里复制要拆出的那一段。`);
  const rest = card.quotes[at].replace(words, "").replace(/[，,；;、]\s*(?=[。！？!?]|$)/g, "")
    .replace(/^[\s，,。；;、]+|[\s，,；;、]+$/g, "");  // "…抢不到，。" left by the cut reads "…抢不到。"
  if (!rest && card.quotes.length === 1) throw new Error(`“${words}”就是第${card.n}条的全部原话，不用拆分；要改类别请说：第${card.n}条改为…`);
  const r = await api("/api/classify", { method: "POST", json: Object.assign({ text: words }, card.received_at ? { received_at: card.received_at } : {}) });
  if (rest) card.quotes[at] = rest; else card.quotes.splice(at, 1);
  card.summary = card.quotes[0].slice(0, 60);  // the 问题内容 saved no longer holds the words taken out
  card.mentions = Math.max(1, (card.mentions || 1) - (rest ? 0 : 1));
  refreshCard(card);
  const [made] = showIssues([{ summary: words.slice(0, 60), category: r.category, category_name: r.category_name, secondary: r.secondary,
    urgent: r.urgent, owner: r.owner, co_owners: r.co_owners, deadline: r.deadline, location: r.location,
    speakers: card.speakers || [], mentions: 1, quotes: [words], response: null, confidence: r.confidence,
    needs_review: r.needs_review, notes: [...(r.notes || []), "保存前由工作人员从另一张卡片的原话中拆出"] }], card.received_at);
  botText(`已从第${card.n}条拆出第${made.n}条：${made.category_name}，责任主体 ${made.owner}。第${card.n}条留下其余的原话。`);
}

const CN_DIGITS = { 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
function number(word) {  // "12", "二", "十二", "二十三"
  if (/^\d+$/.test(word)) return Number(word);
  const [tens, ones] = word.includes("十") ? word.split("十") : ["", word];
  const t = word.includes("十") ? (tens ? CN_DIGITS[tens] : 1) : 0;
  return t * 10 + (ones ? CN_DIGITS[ones] || 0 : 0);
}
function cardByNumber(n) {
  if (typeof n === "string") n = number(n);
  const card = state.cards.find((c) => c.n === n);
  if (!card) {
    const shown = state.cards.map((c) => c.n);
    throw new Error(`没有第${n}条。` + (shown.length ? `现有的是第 ${shown.join("、")} 条。` : "现在还没有问题卡片，请先粘贴纪要或诉求。"));
  }
  return card;
}
function resolveCategory(word) {
  const w = word.trim();
  const cats = state.taxonomy.categories;
  const exact = cats.find((c) => c.code === w || c.name === w);
  if (exact) return exact.code;
  const partial = cats.filter((c) => w.length >= 2 && (c.name.includes(w) || w.includes(c.name.slice(0, 2))));
  if (partial.length > 1) throw new Error(`“${w}”可以是${partial.map((c) => c.name).join("、")}，请写全称。`);
  if (partial.length === 1) return partial[0].code;
  // the words staff use (the taxonomy's category_aliases, as the server reads them): "垃圾", "电梯维修"
  const words = Object.entries(state.taxonomy.category_aliases || {});
  const said = words.find(([alias]) => alias === w);
  if (said) return said[1];
  const named = [...new Set(words.filter(([alias]) => w.includes(alias)).map(([, code]) => code))];
  if (named.length > 1) throw new Error(`“${w}”可以是${named.map(catName).join("、")}，请写全称。`);
  if (named.length === 1) return named[0];
  throw new Error(`不认识类别“${w}”。可用：${cats.map((c) => c.name).join("、")}`);
}
function resolveOwner(word) {  // one of the owners the ledger already uses, so statistics stay together
  const w = word.trim();
  const aliases = (state.taxonomy && state.taxonomy.owner_aliases) || {};
  const found = OWNERS.find((o) => o === w) || aliases[w.replace(/\s+/g, "")] || OWNERS.find((o) => o.includes(w))
    || OWNERS.find((o) => w.length >= 2 && w.length <= 4 && o.split(/[/、]/).some((part) => part.includes(w.slice(0, 2))));
  if (!found) throw new Error(`不认识责任主体“${w}”。可用：${OWNERS.join("、")}`);
  return found;
}

async function download(path, fallbackName) {
  const res = await api(path, { raw: true });
  const blob = await res.blob();
  const disposition = res.headers.get("Content-Disposition") || "";
  const match = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename=([^;]+)/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1].replace(/"/g, "")) : fallbackName;
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name, text: `下载 ${name}`, class: "download-link" });
  botNode(el("div", { text: "文件已生成：" }), a);
  a.click();
  return name;
}

const COMMANDS = [
  // "5号交给维修组李师傅": a team or person inside the owner's office takes it; written into 办理情况, 办理中
  [/^(?:编号\s*(\d+)\s*号?|(\d+)\s*号)\s*(?:交给|派给|安排给?|由)\s*([^，,：:。\s]{0,8}(?:组|班|队|师傅|经理|主管|工程部|客服部|保洁部|秩序部))\s*(?:负责|处理|办理|去办)?\s*(?:[，,：:。\s]\s*([\s\S]*))?$/, async (m) => {
    const entry = await api(`/api/entries/${m[1] || m[2]}`);
    const aliases = (state.taxonomy && state.taxonomy.owner_aliases) || {};
    if (aliases[m[3]] || OWNERS.includes(m[3]) || /城管|消防|交警|派出所|公安|街道|社区|居委|园林|环卫|供电|供水|燃气|热力|市政|住建|执法|大队|中队/.test(m[3])) {
      // 绿化队, 城管中队, 消防大队: another body, a handover (with its reason), not a team of this office
      const owner = resolveOwner(aliases[m[3]] || m[3]);
      if (!m[4] || !m[4].trim()) return changeEntryOwner(entry, owner);
      return handOver(entry, owner, m[4].trim());
    }
    const said = `承办：${m[3]}${m[4] && m[4].trim() ? `，${m[4].trim()}` : ""}`;
    let u = await api(`/api/entries/${entry.id}`, { method: "PATCH", json: { response: withProgress(entry.response, said), seen: entry.updated } });
    if (u.status === "待派单" || u.status === "已派单") u = await setStatus(u.id, { status: "办理中" });
    botText(`编号 ${u.id} 由${m[3]}承办，已记入办理情况，状态“${u.status}”。查他手上的事：查找 ${m[3]}。`);
  }],
  [/^(?:编号\s*(\d+)\s*号?|(\d+)\s*号)\s*(?:转给|转交给?|交给|移交给?)\s*([^，,：:。\s]{2,20})\s*[，,：:。\s]\s*(?:原因是?[：:]?\s*)?([\s\S]+)$/, async (m) => {
    const entry = await api(`/api/entries/${m[1] || m[2]}`);
    const owner = resolveOwner(m[3]);
    if (owner === entry.owner) {  // "12号转给调委会 已经约了两家周五调解": the owner already has it; the words are progress
      const u = await api(`/api/entries/${entry.id}`, { method: "PATCH", json: { response: withProgress(entry.response, m[4].trim()), seen: entry.updated } });
      return botText(`编号 ${u.id} 的责任主体已经是${owner}；已把“${m[4].trim()}”记入办理情况。`);
    }
    await handOver(entry, owner, m[4].trim());
  }],
  [/^(?:把)?\s*第\s*([\d一二两三四五六七八九十]+)\s*[条个](?:的)?(?:类别)?(?:改为|改成|应该是|应为|换成|归为|算)\s*(.+)$/, async (m) => {
    const card = cardByNumber(m[1]);
    const target = m[2].replace(/^责任主体/, "");
    if (/^责任主体/.test(m[2])) return correct(card, card.category, resolveOwner(target));
    return correct(card, resolveCategory(target), null);
  }],
  [/^(?:把)?\s*第\s*([\d一二两三四五六七八九十]+)\s*[条个](?:的)?(?:责任主体|责任单位|派给|交给)(?:改为|改成|换成|为)?\s*(.+)$/, async (m) => {
    const card = cardByNumber(m[1]);
    return correct(card, card.category, resolveOwner(m[2]));
  }],
  // a saved entry by its 台账编号 (not a card number): 32号改为其他, 编号32类别改成宠物, 32号责任主体改为社区
  [/^(?:把)?\s*(?:(?:编号|台账)\s*(\d+)\s*号?|(\d+)\s*号)\s*(?:的)?(?:类别)?(?:改为|改成|应该是|应为|换成|归为|算)\s*(?!已?(?:派单|办理中|办结|销号|作废|回访))(.+)$/, async (m) => {
    m = [m[0], m[1] || m[2], m[3]];  // 编号32 or 32号: a ledger number (a bare "3改为…" is no command)
    const target = m[2].replace(/^责任主体/, "");
    const entry = await api(`/api/entries/${m[1]}`);
    if (/^责任主体/.test(m[2])) return changeEntryOwner(entry, resolveOwner(target));
    const code = resolveCategory(target);
    if (code === entry.category) return botText(`编号 ${entry.id} 已经是${catName(code)}，没有改动。`);
    const u = await api(`/api/entries/${entry.id}/correct`, { method: "POST", json: { category: code, seen: entry.updated } });
    botText(`已更正编号 ${u.id}：${u.category_name}，责任主体 ${u.owner}，办理时限 ${u.deadline ? fmtTime(u.deadline)
      : `无（${u.category_name}类按分类规则不设时限；仍要跟进的，请在“台账”页用“调整时限”定一个）`}（已记为人工更正）。`);
  }],
  [/^(?:把)?\s*(?:(?:编号|台账)\s*(\d+)\s*号?|(\d+)\s*号)\s*(?:的)?(?:责任主体|责任单位|派给|交给)(?:改为|改成|换成|为)?\s*(.+)$/, async (m) => {
    await changeEntryOwner(await api(`/api/entries/${m[1] || m[2]}`), resolveOwner(m[3]));
  }],
  [/^(全部保存|保存全部|入台账|全部入台账|保存)$/, async () => {
    if (!state.cards.length) return botText("还没有可以保存的问题。请先粘贴纪要或诉求。");
    if (state.saving) return botText("正在保存，请稍候。");  // a second Enter must not save the same cards again
    state.saving = true;
    try {
      const n = await saveCards(state.cards);
      // 第N条 is this result's card, N号 the ledger's number: say which is which before anyone types "4号办结"
      const map = state.cards.filter((c) => c.entry_id).map((c) => `第${c.n}条→${c.entry_id}号`).join("，");
      botText(n ? `已存入台账 ${n} 条（${map}）。在聊天里跟进请用台账编号，如“${state.cards.find((c) => c.entry_id).entry_id}号派单”；也可在“台账”页办理。`
        : "没有新登记的问题。");
    } finally { state.saving = false; }
  }],
  [/^(?:删除|删掉|去掉|不要)?\s*(?:把)?\s*第\s*([\d一二两三四五六七八九十]+)\s*[条个](?:问题)?\s*(?:删除|删掉|去掉|不要了?)?$/, async (m) => {
    if (!/删|去掉|不要/.test(m[0])) throw new Error(`要对第${m[1]}条做什么？例如：删除第${m[1]}条、第${m[1]}条改为宠物。`);
    const card = cardByNumber(m[1]);
    state.cards = state.cards.filter((c) => c !== card);
    if (card.node) card.node.remove();
    persistCards();
    botText(card.entry_id ? `已从本次结果中移除第${card.n}条。它已存入台账（编号 ${card.entry_id}），台账中的记录保留。`
      : `已删除第${card.n}条（未存入台账）。其余各条编号不变。`);
  }],
  // cards of this result, before saving: "第2条和第5条是同一件事", "第5条并入第2条", "第3条拆分：……"
  [/^(?:把)?\s*第\s*([\d一二两三四五六七八九十]+)\s*[条个]\s*(?:和|跟|与|、)\s*第?\s*([\d一二两三四五六七八九十]+)\s*[条个]\s*是同一(?:件事|个问题|问题|回事|个事)$/, async (m) => {
    const [a, b] = [cardByNumber(m[1]), cardByNumber(m[2])].sort((x, y) => x.n - y.n);
    mergeCards(b, a);  // the one raised first stays
  }],
  [/^(?:把)?\s*第\s*([\d一二两三四五六七八九十]+)\s*[条个]\s*(?:并入|合并到|合并进|并到|并进|归到|归入)\s*第\s*([\d一二两三四五六七八九十]+)\s*[条个]$/, async (m) => {
    mergeCards(cardByNumber(m[1]), cardByNumber(m[2]));
  }],
  [/^(?:把)?\s*第\s*([\d一二两三四五六七八九十]+)\s*[条个]\s*(?:拆分|拆出|拆开)\s*[：:，,]\s*([\s\S]+)$/, async (m) => {
    await splitCard(cardByNumber(m[1]), m[2].trim().replace(/^[“"]|[”"]$/g, ""));
  }],
  [/^登记[：:]\s*(.+)$/s, async (m) => { await sendText(m[1], true); }],
  [/^(导出台账|导出|下载台账|导出excel|导出表格|下载excel|导出Excel|下载Excel)$/i, async () => {
    // one's own 社区's ledger for a 书记 (导出全部社区台账 for all of them)
    const own = state.community ? `&community=${encodeURIComponent(state.community)}` : "";
    if (own) botText(`正在导出${state.community}的台账（其他社区的请说：导出全部社区台账）…`);
    await download(`/api/ledger.xlsx?status=未作废${own}`, "问题台账.xlsx");
  }],
  // "导出本月台账", "导出东湖社区11月台账", "导出物业逾期的": the export of what the words select
  [/^(?:导出|下载)(.{1,30}?)(?:的)?(?:台账|问题|excel|表格|表)?$/i, async (m) => {
    const { params, said } = await filtersSaid(m[1]);
    if (!Object.keys(params).length && /全部|所有|全街道/.test(m[1])) {
      return download("/api/ledger.xlsx?status=未作废", "问题台账.xlsx");  // every 社区's
    }
    if (!Object.keys(params).length) throw new Error(`没看懂要导出哪些：“${m[1]}”。例如：导出本月台账、导出东湖社区11月台账、导出物业逾期的。`);
    if (!params.status) params.status = "未作废";  // as the 台账 tab: voided duplicates are not sent to 物业
    botText(`正在导出${said.join("、")}的台账…`);
    await download(`/api/ledger.xlsx?${new URLSearchParams(params)}`, "问题台账.xlsx");
  }],
  [/^(逾期|逾期问题|查看逾期|超期)$/, async () => {
    const data = await api("/api/entries?overdue=any&limit=50");
    if (!data.items.length) return botText("目前没有逾期或将要逾期的问题。");
    botNode(el("div", { text: `逾期或将逾期 ${data.total} 条：` }), entryTable(data.items));
  }],
  [/^(?:(本月|上月|上个月)(?:统计|汇总|报表)?|(\d{1,2})月(?:份)?(?:统计|汇总|报表))$/, async (m) => {
    // a month's figures: 本月统计, 上月统计, 11月统计 (this year, or last year for a month still to come)
    const now = new Date();
    let year = now.getFullYear(), month = now.getMonth() + 1;
    if (m[1] && m[1] !== "本月") { month -= 1; if (!month) { month = 12; year -= 1; } }
    if (m[2]) { month = Number(m[2]); if (month < 1 || month > 12) throw new Error(`没有${m[2]}月。`); if (month > now.getMonth() + 1) year -= 1; }
    const span = `${year}-${String(month).padStart(2, "0")}`;
    const s = await api(`/api/stats?${new URLSearchParams({ date_from: span, date_to: span })}`);
    const canvas = el("canvas", { width: 520, height: 260 });
    botNode(el("div", { text: `${year}年${month}月受理 ${s.total} 条：办结率 ${pct(s.rates.closed)}，按时办结率 ${pct(s.rates.on_time)}，`
      + `满意率 ${pct(s.rates.satisfied)}（回访 ${s.rates.visited} 条）；仍逾期 ${s.overdue.red} 条。下图按类别统计；`
      + `在“台账”页选好日期后点“导出台账”，可下载本月明细和汇总。` }), canvas);
    barChart(canvas, s.by_category);
  }],
  [/^(本周统计|统计)$/, async () => {
    const stats = await api("/api/stats");
    const canvas = el("canvas", { width: 520, height: 260 });
    const wk = stats.this_week || { week: "", received: 0 };
    botNode(el("div", { text: `本周（${weekName(wk.week)}）新登记 ${wk.received} 条。`
      + `台账共 ${stats.total} 条；逾期 ${stats.overdue.red} 条，将逾期 ${stats.overdue.yellow} 条；人工更正占 ${Math.round(stats.corrected_share * 100)}%。下图为全部台账按类别统计。` }), canvas);
    barChart(canvas, stats.by_category);
  }],
  [/^(待审核|待复核|审核)$/, async () => {
    const items = await api("/api/review-queue?limit=10");
    if (!items.length) return botText("没有需要审核的记录。");
    botNode(el("div", { text: "以下记录模型最没把握，请优先确认类别：类别不对就直接在表中改选，会重新派单并记录更正。" }), entryTable(items, true));
  }],
  // "32和22是同一件事": the later entry goes into the earlier one
  [/^(?:编号)?\s*(\d+)\s*号?\s*(?:和|跟|与)\s*(?:编号)?\s*(\d+)\s*号?\s*是同一(?:件事|个问题|问题|回事|个事)$/, async (m) => {
    const [from, into] = [Number(m[1]), Number(m[2])].sort((a, b) => b - a);
    const merged = await mergeEntries(from, into);
    botText(`已把编号 ${from} 并入编号 ${merged.id}：编号 ${from} 已作废（记录保留），它的内容记为编号 ${merged.id} 的一次重复反映，见办理记录。`);
  }],
  [/^(?:把)?\s*(?:编号|台账)?\s*(\d+)\s*号?\s*(?:并入|合并到|合并进|并到|并进|归到|归入)\s*(?:编号|台账)?\s*(\d+)\s*号?$/, async (m) => {
    const into = await mergeEntries(Number(m[1]), Number(m[2]));
    botText(`已把编号 ${m[1]} 并入编号 ${into.id}：编号 ${m[1]} 已作废（记录保留），它的内容记为编号 ${into.id} 的一次重复反映，见办理记录。`);
  }],
  // 拆分: "12号拆分：五栋电梯停了", "拆分12号：…" (a run-on voice log made one card of two problems)
  [/^(?:把)?\s*(?:编号|台账)?\s*(\d+)\s*号?\s*(?:拆分|拆出|拆开)\s*[：:，,]\s*([\s\S]+)$|^(?:拆分|拆出)\s*(?:编号|台账)?\s*(\d+)\s*号?\s*[：:，,]\s*([\s\S]+)$/, async (m) => {
    const [kept, made] = await splitEntry(Number(m[1] || m[3]), (m[2] || m[4]).trim());
    botText(splitSaid(kept, made));
  }],
  // one ledger entry by its 编号, for a grid worker on the phone: 查12号, 12号进展, 编号12怎么样了
  [/^(?:(?:查|查看|查询|看看?)\s*(?:编号|台账)?\s*(\d+)\s*号?|编号\s*(\d+)\s*号?|(\d+)\s*号)\s*(?:的)?\s*(?:进展|进度|情况|办理情况|怎么样了?|办得怎么样了?|到哪了|记录)?$/, async (m) => {
    await showEntry(Number(m[1] || m[2] || m[3]));
  }],
  // 回访 on the phone: the 已办结 entries waiting for a call, with who to call
  [/^(待回访|回访|要回访的|回访名单|回访清单)$/, async () => {
    const data = await api("/api/entries?status=已办结&limit=50");
    if (!data.items.length) return botText("目前没有等待回访的问题（已办结的都回访过了）。");
    botNode(el("div", { text: `已办结、等待回访 ${data.total} 条（新的在前）。打完电话输入：12号回访满意、12号回访基本满意、12号回访不满意 还是漏水（不满意会退回重新办理）。` }),
      entryTable(data.items, false, true));
  }],
  // "12号回访满意", and as said on the phone: "2号回访：居民说基本满意", "7号回访结果满意", "3号电话回访了，钱师傅很满意"
  // 回访 as said on the phone, the verdict anywhere in the sentence: "12号回访满意", "6号电话回访了 3楼那户说很好很满意",
  // "2号回访 居民说灯是亮了 但是三楼那个还是一闪一闪的 不太满意", "3号回访 居民说还行吧 就是垃圾桶还是有点少"
  [/^(?:编号\s*(\d+)\s*号?|(\d+)\s*号)\s*(?:电话|上门)?回访(?:了|过了)?(?=[\s\S]*(?:满意|一般|还行|凑合|[1-5]\s*分))([\s\S]*)$/, async (m) => {
    const id = Number(m[1] || m[2]);
    const said = m[3];
    const v = VISIT_WORDS.exec(said);
    const score = v[2] ? Number(v[2]) : VISIT_SCORES[v[1]];
    // the resident's words around the verdict, without "3楼那户说", particles and the verdict itself
    const feedback = [said.slice(0, v.index), said.slice(v.index + v[0].length)]
      .map((x) => x.replace(/^[\s：:，,。；;]*(?:结果|情况)?[\s：:，,]*/, "").replace(/^[^，,。；;\s]{0,10}?(?:说|表示|反馈|称)[：:，,\s]*/, "")
        .replace(/^(?:很好|挺好|还好)?[，,\s]*(?:很|挺|还算|也)?$/, "").replace(/^(?:的|了|吧|啊|呀|哈)+/, "").replace(/[\s：:，,。；;]+$/, "").trim())
      .filter((x) => x && !/^[的了吧啊呀哈]+$/.test(x) && !/^(?:他|她|他们|她们|居民|业主|住户|老人|那户|那家|对方)$/.test(x)).join("；");
    const updated = await setStatus(id, { status: "已回访", satisfaction: score, feedback });
    const word = { 很满意: "满意", 挺满意: "满意", 还行: "一般", 凑合: "一般" }[v[1]] || v[1];
    botText(updated.status === "已回访"
      ? `已记下编号 ${id} 的回访：${v[2] ? `${score} 分` : `${word}（${score} 分）`}${feedback ? `，意见：${feedback}` : ""}。可以输入“${id}号销号”。`
      : `编号 ${id} 回访${word}（${score} 分）：居民不满意，已退回“${updated.status}”，请继续办理。`);
  }],
  // "12号办结：结果", with the day it was done when that was not today: "12号昨天办结：…", "12号办结（11月25日）：…"
  [/^(?:编号\s*(\d+)\s*号?|(\d+)\s*号)\s*((?:昨天|前天|今天)(?:上午|下午|晚上)?)?\s*(?:已经?|改为|改成|转)?\s*(派单|已派单|办理中|在办|开始办理|办结|已办结|办完了?|办好了?|修好了?|弄好了?|处理好了?|已处理|销号|已销号|作废|已作废)\s*(?:[（(]([^）)]{1,20})[）)])?\s*[：:，,。；;\s]*(.*)$/s, async (m) => {
    const when = (m[3] || m[5] || "").trim();
    m = [m[0], m[1] || m[2], m[4], m[6]];
    const status = STATUS_WORDS[m[2].replace(/^已/, "").replace(/了$/, "")];
    const note = m[3].trim();
    if (when && status !== "已办结") return botText("只有办结可以写日期，例如：12号办结（11月25日）：已更换读卡器。");
    if (status === "已作废" && !note) return botText(`作废要写明原因，例如：${m[1]}号作废：重复登记。作废的记录保留，可以恢复。`);
    // "12号修好了吗", "12号办好了没有": a question about the entry, not its closing
    if (status === "已办结" && /^(?:吗|么|嘛|呢|没有?|了没有?|不|没呢)?$/.test(note) && !/^(?:办结|已办结)$/.test(m[2])) {
      return showEntry(Number(m[1]));
    }
    if (status === "已办结" && when) {  // already closed: say how to put the day right, not "已办结 → 已办结"
      const entry = await api(`/api/entries/${m[1]}`);
      if (entry.status === "已办结") {
        return botText(`编号 ${m[1]} 已经办结。要更正办结时间：先输入“${m[1]}号办理中”，再输入“${m[1]}号办结（${when}）：${note || "办理结果"}”。`);
      }
      if (entry.status !== "待派单" && entry.status !== "已派单" && entry.status !== "办理中") {
        return botText(`编号 ${m[1]} 已经是“${entry.status}”，办结时间不能再改。`);
      }
    }
    if (status === "办理中" && note) {  // progress on an entry in hand: added to 办理情况, no status move needed
      const entry = await api(`/api/entries/${m[1]}`);
      if (entry.status === "办理中") {
        const u = await api(`/api/entries/${entry.id}`, { method: "PATCH", json: { response: withProgress(entry.response, note), seen: entry.updated } });
        return botText(`编号 ${u.id} 仍在办理中，已记下进展。办理情况：${u.response}`);
      }
    }
    if (status === "已办结" && !note) {  // a meeting's promise in 办理情况 is no result: ask for what was done
      return botText(`请写明办理结果，例如：${m[1]}号办结：已更换读卡器。实际办结的日子不是今天的话，加上日期：${m[1]}号办结（11月25日）：已更换读卡器。`);
    }
    let updated = await setStatus(Number(m[1]), { status, ...(note ? { note } : {}), ...(when ? { done_at: when } : {}) });
    if (status === "办理中" && note) {  // "2号办理中：维修组已上门…" is progress: it goes into 办理情况 (the export shows it)
      updated = await api(`/api/entries/${m[1]}`, { method: "PATCH", json: { response: withProgress(updated.response, note), seen: updated.updated } });
    }
    botText(`编号 ${m[1]} 已改为“${updated.status}”${when ? `（办结于${when}）` : ""}${(status === "已办结" || status === "办理中") && updated.response ? `，办理情况：${updated.response}` : ""}。`
      + (status === "已办结" ? `回访后输入“${m[1]}号回访满意”。` : ""));
  }],
  // "5号办理情况：已在公告栏公示…", "5号回复：…", "5号进展：…": the 办理情况, as typed in the 办理 panel
  [/^(?:编号\s*(\d+)\s*号?|(\d+)\s*号)\s*(?:的)?(?:办理情况|处理情况|回复|答复|进展|进度)\s*[：:]\s*([\s\S]+)$/, async (m) => {
    const entry = await api(`/api/entries/${m[1] || m[2]}`);
    const u = await api(`/api/entries/${entry.id}`, { method: "PATCH", json: { response: m[3].trim(), seen: entry.updated } });
    botText(`已记下编号 ${u.id} 的办理情况：${u.response}（状态仍为“${u.status}”${u.status === "待派单" || u.status === "已派单" ? `，开始办理请输入“${u.id}号办理中”` : ""}）。`);
  }],
  // "5号转给街道，物业费调整已经业委会表决…": a handover with its reason in one line
  [/^(上传记录|导入记录|最近上传|撤销导入)$/, async () => {
    const list = await api("/api/jobs?limit=10");
    if (!list.length) return botText("还没有上传过工单表或台账。");
    const node = botNode(el("div", { text: "最近的上传（新的在前）：" }));
    for (const job of list) {
      const row = el("div", { class: "job-row" }, `${fmtTime(job.created)} ${job.who || ""} “${job.input_name}”：${job.total} 条`
        + (job.saved == null ? "，只分类未入台账" : `，入台账 ${job.saved} 条`) + (job.undone ? `（已于 ${fmtTime(job.undone)} 撤销）` : ""));
      if (job.saved) row.append(" ", jobViewButton(job));
      if (!job.undone && (job.saved || job.repeat)) row.append(" ", undoButton(job, row));
      node.append(row);
    }
  }],
  // the learning loop for administrators: retrain on the corrections, see the versions, go back
  [/^(?:用更正)?(?:重新训练|重训|训练模型|更新模型|重新训练模型|用更正重新训练)(?:模型)?$/, async () => {
    const label = botText("正在准备重新训练…");
    let job = await api("/api/admin/retrain", { method: "POST" });
    while (job.status === "running") {
      await new Promise((r) => setTimeout(r, 800));
      job = await api(`/api/jobs/${job.id}`);
      const step = job.result && (typeof job.result === "string" ? JSON.parse(job.result) : job.result).step;
      label.textContent = `正在重新训练（第 ${job.done} / ${job.total} 步）${step ? "：" + step : "…"}`;
    }
    if (job.status !== "done") throw new Error(job.error || "重新训练失败");
    const out = typeof job.result === "string" ? JSON.parse(job.result) : job.result;
    const pct = (x) => `${(100 * x).toFixed(1)}%`;
    label.textContent = (out.promoted ? `已启用新模型 ${out.version}。` : `新模型 ${out.version} 没有通过评估，仍用 ${out.current.version}。`)
      + `在同一批 ${out.n_eval} 条评估样本上，新模型 macro-F1 ${pct(out.candidate.macro_f1)}、准确率 ${pct(out.candidate.accuracy)}；`
      + `原模型 ${pct(out.current.macro_f1)}、${pct(out.current.accuracy)}（${out.reason}）。学了 ${out.n_corrections} 条人工更正和导入样本。`
      + (out.promoted ? "之后的分类都用新模型；要退回请输入“回滚模型”。" : "");
    if (out.promoted) await showWho();
  }],
  [/^(模型版本|模型列表|查看模型|模型)$/, async () => {
    const rows = await api("/api/admin/models");
    const NAMES = { active: "使用中", candidate: "候选", rejected: "未通过", retired: "已停用" };
    botNode(el("div", { text: `共 ${rows.length} 个模型版本：` }), el("table", { class: "answer-table" },
      el("tr", {}, ...["版本", "状态", "建立时间", "说明"].map((h) => el("th", { text: h }))),
      ...rows.slice(0, 12).map((r) => el("tr", {}, el("td", { text: r.version }), el("td", { text: NAMES[r.status] || r.status }),
        el("td", { text: (r.created || "").slice(0, 16).replace("T", " ") }), el("td", { text: r.reason || "" })))));
  }],
  [/^(回滚模型|模型回滚|退回上一个模型|回退模型)$/, async () => {
    const out = await api("/api/admin/models/rollback", { method: "POST" });
    botText(`已退回模型 ${out.serving}，之后的分类都用它。`);
    await showWho();
  }],
  [/^(帮助|help|\?|？|怎么用)$/i, async () => botText(HELP)],
];

// What staff type or dictate, in the order the commands expect: "查十二号" → 查12号, "帮我查下25号" → 查25号,
// "派单33号" → 33号派单, "回访满意25号" → 25号回访满意, "办结20号：…" → 20号办结：…
function commandOrder(text) {
  // "12号拆分：三号楼电梯停了": the words after the colon are quoted as written
  const colon = text.search(/[：:]/);
  const head = colon < 0 ? text : text.slice(0, colon), tail = colon < 0 ? "" : text.slice(colon);
  let t = head.replace(/([零一二两三四五六七八九十百]+)(?=\s*号)/gu, (w) => { const n = number(w); return n ? String(n) : w; }) + tail;
  t = t.replace(/^(?:帮我|麻烦|请)?\s*(?:查|看)(?:一下|下|查|看)?\s*(编号\s*)?(\d+)\s*号?(.*)$/su, (_, pre, n, rest) => `查${n}号${rest}`);
  t = t.replace(/^(派单|办理中|在办|办结|销号|作废)\s*(\d+)\s*号(.*)$/su, (_, verb, n, rest) => `${n}号${verb}${rest}`);
  t = t.replace(/^回访\s*(非常不满意|很不满意|不满意|非常满意|基本满意|比较满意|满意|一般|[1-5]\s*分)\s*(\d+)\s*号(.*)$/su,
    (_, score, n, rest) => `${n}号回访${score}${rest}`);
  return t;
}

// A question about the ledger in a 书记's own words: 本月逾期的有哪些, 物业的还有几件没办完, 东湖社区逾期,
// 上个月的满意率, 待派单, 查找 广场舞, 12栋电梯的事怎么样了. Answered from the ledger (never filed as a problem);
// false when the message names nothing the ledger can be asked by (then it is a resident's words after all).
const ASKS = /有哪些|哪些|几件|几条|多少|怎么样了|修好了没有?|好了没有?|办了没有?|进展|列出|列一下|查找|搜索|找一下|搜一下|满意率|办结率|逾期|超期|待派单|没派单|办理中|没办完|未办结|还没办|没办结|要办的|到期的|待办/;
const TROUBLE_WORDS = /[坏漏堵臭吵乱塌裂]|不亮|不通|没人管|没人修|投诉|反映/;
// The ledger filters a sentence names (not the 台账 page's: `ledgerFilters`): an owner (by name or alias), a 社区, 逾期, 未办结/待派单/办理中, a month.
async function filtersSaid(command, searching = false) {
  const params = {}, said = [];
  if (!state.communities) state.communities = await api("/api/communities").catch(() => []);
  const community = state.communities.find((c) => command.includes(c) || command.includes(c.replace(/社区$/, "")));
  if (community && !searching) { params.community = community; said.push(community); }
  const rest = community ? command.replace(community, "").replace(community.replace(/社区$/, ""), "") : command;
  const aliases = (state.taxonomy && state.taxonomy.owner_aliases) || {};  // 物业 → 物业服务企业 (not the 社区 of 东湖社区)
  const owner = [...OWNERS, ...Object.keys(aliases)].filter((w) => w.length >= 2 && rest.includes(w))
    .sort((a, b) => b.length - a.length)[0];
  if (owner && !searching) { params.owner = OWNERS.includes(owner) ? owner : aliases[owner]; said.push(params.owner); }
  if (/已逾期|已经逾期|超期了/.test(command)) { params.overdue = "red"; said.push("已逾期"); }
  else if (/快到期|要到期|将逾期|快逾期|马上到期/.test(command)) { params.overdue = "yellow"; said.push("将逾期"); }
  else if (/逾期|超期/.test(command)) { params.overdue = "any"; said.push("逾期或将逾期"); }
  // "我这周要办的", "这周到期的", "今天到期的": what is due by then (still open; the late ones too)
  const due = /(?:这周|本周|这个星期|这礼拜)[^，。]{0,6}?(?:要办|到期|截止|要完成|得办)|^我的待办|^待办$/.test(command) ? "week"
    : /今天[^，。]{0,6}?(?:要办|到期|截止|得办)/.test(command) ? "today" : null;
  if (due) { params.due = due; said.push(due === "week" ? "本周到期（含已逾期）" : "今天到期（含已逾期）"); }
  if (/没办完|未办结|还没办|没办结|没有办完/.test(command)) { params.status = "未办结"; said.push("未办结"); }
  else if (/待派单|没派单|还没派/.test(command)) { params.status = "待派单"; said.push("待派单"); }
  else if (/办理中/.test(command)) { params.status = "办理中"; said.push("办理中"); }
  // "12345的还有几件没办完", "纪要里的": how it came in
  if (/12345|热线|工单/.test(command)) { params.source = "tag"; said.push("12345工单（批量导入）"); }
  else if (/纪要|板凳会|议事会/.test(command)) { params.source = "extract"; said.push("纪要"); }
  const now = new Date();
  const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7));
  // "11月16日到22日", "11月16日至11月22日", "16号到22号", "11.16-11.22": the days said, not their whole month
  const range = /(?:(\d{1,2})\s*[月.\/])?\s*(\d{1,2})\s*[日号]?\s*(?:到|至|-|—|~|～)\s*(?:(\d{1,2})\s*[月.\/])?\s*(\d{1,2})\s*[日号]/.exec(command)
    || /(\d{1,2})\s*[月.\/]\s*(\d{1,2})\s*[日号]?\s*(?:到|至|-|—|~|～)\s*(?:(\d{1,2})\s*[月.\/])?\s*(\d{1,2})\s*[日号]?/.exec(command);
  let month = null;
  const building = range && /^\s*(?:号?楼|栋|幢|座|单元|层)/.test(command.slice(range.index + range[0].length));
  if (range && !building) {  // "2-3号楼", "3到5号楼" name buildings, not days
    // the latest such days up to today: "28号到3号" on 5 January runs from 28 December
    const d1 = Number(range[2]), d2 = Number(range[4]);
    const m1 = range[1] ? Number(range[1]) : null;
    const m2 = range[3] ? Number(range[3]) : m1 && d2 < d1 ? m1 % 12 + 1 : m1;  // "11月28日到3日" ends in December
    const latest = (m, d, by) => {  // the last date with that month (or any month when null) and day, up to `by`
      for (let k = 0; k < 24; k++) {
        const at = m ? new Date(by.getFullYear() - k, m - 1, d) : new Date(by.getFullYear(), by.getMonth() - k, d);
        if (at <= by && at.getDate() === d) return at;
      }
      return by;
    };
    const to = latest(m2, d2, now), from = latest(m1, d1, to);
    params.date_from = day(from); params.date_to = day(to);
    said.push(`${from.getMonth() + 1}月${from.getDate()}日至${to.getMonth() + 1}月${to.getDate()}日受理`);
  } else if (/上周|上个星期|上星期|上礼拜|上个礼拜/.test(command)) {  // last Monday to last Sunday
    const last = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() - 7);
    const sunday = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() - 1);
    params.date_from = day(last); params.date_to = day(sunday);
    said.push(`上周（${last.getMonth() + 1}月${last.getDate()}日–${sunday.getMonth() + 1}月${sunday.getDate()}日）受理`);
  } else if (!due && /本周|这周|这个星期|这礼拜/.test(command)) {  // "本周物业的有哪些": received since Monday
    params.date_from = day(monday);
    said.push("本周受理");
  }
  if (params.date_to) month = null;
  else if (/本月|这个月|这月/.test(command)) month = [now.getFullYear(), now.getMonth() + 1];
  else if (/上月|上个月/.test(command)) month = now.getMonth() ? [now.getFullYear(), now.getMonth()] : [now.getFullYear() - 1, 12];
  else if (/(\d{1,2})月/.test(command)) {
    const m = Number(/(\d{1,2})月/.exec(command)[1]);
    if (m >= 1 && m <= 12) month = [m > now.getMonth() + 1 ? now.getFullYear() - 1 : now.getFullYear(), m];
  }
  if (month) { params.date_from = params.date_to = `${month[0]}-${String(month[1]).padStart(2, "0")}`; said.push(`${month[0]}年${month[1]}月受理`); }
  // one's own 社区 unless another or all were named (an admin trial's 书记 exported all three 社区)
  if (Object.keys(params).length && !params.community && state.community && !searching
      && !/全部社区|所有社区|全街道|各社区|每个社区/.test(command)) {
    params.community = state.community; said.unshift(state.community);
  }
  return { params, said };
}

async function ledgerQuestion(command) {
  const search = /^(?:查找|搜索|找一下|搜一下|搜)\s*[:：]?\s*(.{1,30})$/.exec(command);
  if (!search && (command.length > 40 || !ASKS.test(command) || TROUBLE_WORDS.test(command))) return false;
  const params = {}, said = [];
  if (search) { params.q = search[1].trim(); said.push(`含“${params.q}”`); }
  const about = !search && /^(.{2,14}?)(?:的事情?|的问题|那件事|这件事)?(?:现在)?(?:怎么样了|进展如何|进展|办得怎么样了?|办到哪了|修好了没有?|好了没有?|办了没有?)$/.exec(command);
  if (about) {  // "6栋电梯的事": the building and the thing are two words, so "6栋2单元电梯" is found
    params.q = about[1].replace(/^(?:那个|上次|之前)/, "")
      .replace(/^([\d一二两三四五六七八九十]+\s*(?:号楼|栋|幢|座)(?:[\d一二三四五六七八九十]+\s*单元)?)(?=\S)/, "$1 ");
    said.push(`含“${params.q}”`);
  }
  const searched = about ? about[1] : search ? search[1] : "";  // the words searched for name no filter
  const found = await filtersSaid(searched ? command.replace(searched, "") : command, Boolean(params.q));
  Object.assign(params, found.params);
  said.push(...found.said);
  if (/满意率|办结率|按时/.test(command)) {
    const s = await api(`/api/stats?${new URLSearchParams(params)}`);
    botText(`${said.join("、") || "全部台账"}：受理 ${s.total} 条，办结率 ${pct(s.rates.closed)}，按时办结率 ${pct(s.rates.on_time)}，`
      + `满意率 ${pct(s.rates.satisfied)}（回访 ${s.rates.visited} 条）；仍逾期 ${s.overdue.red} 条。`);
    return true;
  }
  if (!Object.keys(params).length) return false;
  const data = await api(`/api/entries?${new URLSearchParams({ ...params, limit: 50 })}`);
  const what = said.join("、");
  if (!data.items.length) { botText(`台账中没有${what}的问题。`); return true; }
  botNode(el("div", { text: `${what}：共 ${data.total} 条${data.total > data.items.length ? `，下面是最新的 ${data.items.length} 条（完整的请到“台账”页筛选或导出）` : ""}。` }),
    entryTable(data.items));
  return true;
}

async function handle(text) {
  const command = commandOrder(text.replace(/[。．.！!？?～~\s]+$/u, "").replace(/^[\s@]+/u, ""));
  for (const [pattern, action] of COMMANDS) {
    const m = pattern.exec(command);
    if (m) {
      try { await action(m); } catch (err) { botText(err.message); }
      return;
    }
  }
  if (await ledgerQuestion(command)) return;  // "物业的还有几件没办完" asks the ledger, it is no resident's problem
  if (/^(第\s*[\d一二三四五六七八九十]+\s*[条个]|全部|导出|查看|删除|修改|把)/.test(command) && command.length < 30) {
    botText(`没听懂“${text}”。\n${HELP}`);
    return;
  }
  await sendText(text);
}

$("#composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("#input").value.trim();
  if (!text) return;
  $("#input").value = "";
  userText(text.length > 300 ? text.slice(0, 300) + "…（共 " + text.length + " 字）" : text);
  await handle(text);
});
$("#input").addEventListener("keydown", (e) => {
  // 229: Safari ends an IME composition with an Enter that must not send
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); $("#composer").requestSubmit(); }
});

// ---------- notes file (the Word record of a meeting) ----------
$("#notes-file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  userText(`上传纪要：${file.name}`);
  const thinking = botText("正在读取纪要…");
  try {
    const form = new FormData();
    form.append("file", file);
    const out = await api("/api/extract/file", { method: "POST", body: form });
    thinking.remove();
    showExtracted(out, new Date().toISOString());
  } catch (err) { thinking.textContent = `读取失败：${err.message}`; }
});

// ---------- upload ----------
$("#file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  await uploadTable(file, $("#upload-save").checked);
});
async function uploadTable(file, save) {
  userText(save ? `上传并存入台账：${file.name}` : `上传：${file.name}`);
  const bar = el("div");
  const label = el("div", { text: "正在上传…" });
  const node = botNode(label, el("div", { class: "progress" }, bar));
  try {
    const form = new FormData();
    form.append("file", file);
    form.append("save", save ? "true" : "false");
    let job = await api("/api/jobs", { method: "POST", body: form });
    for (const note of job.notes || []) node.append(el("div", { class: "note", text: `提示：${note}` }));
    while (job.status === "running") {
      bar.style.width = `${job.total ? Math.round((100 * job.done) / job.total) : 0}%`;
      label.textContent = `正在分类：${job.done} / ${job.total}`;
      await new Promise((r) => setTimeout(r, 400));
      job = await api(`/api/jobs/${job.id}`);
    }
    if (job.status !== "done") throw new Error(job.error || "处理失败");
    bar.style.width = "100%";
    label.textContent = `完成：${job.total} 条，其中 ${job.review} 条需要人工复核（结果表中“需人工复核”为“是”的行）。`
      + (job.saved == null ? "" : `已存入台账 ${job.saved} 条`
        + (job.repeat ? `；${job.repeat} 条是对台账中未办结问题的重复来电，已并入原条目（见办理记录）` : "")
        + (job.already ? `；${job.already} 条台账中已有（同一工单编号或内容），没有重复登记` : "")
        + (job.alike ? `；新登记的条目中有 ${job.alike} 条与台账中未办结的问题相近（疑似重复），已标为待复核，请核对` : "")
        + (job.past ? `；${job.past} 条记下了原台账的办理状态（办理中、办结、回访）` : "")
        + (job.advanced ? `；${job.advanced} 条已有记录按更新后的台账改了办理状态（办结、回访，见办理记录）` : "") + "。");
    const link = el("button", { class: "secondary download-job", text: "下载分类结果",
      onclick: () => download(job.download, file.name) });
    node.append(link);
    if (job.saved) node.append(jobViewButton(job));
    if (job.saved || job.repeat) node.append(undoButton(job, node));
    if (job.saved == null) {  // tagged only: saving it afterwards must not need the file picked again
      const keep = el("button", { class: "secondary", text: "存入台账",
        onclick: async () => { keep.disabled = true; await uploadTable(file, true); } });
      node.append(keep);
    }
  } catch (err) { label.textContent = `上传失败：${err.message}`; }
}

// 撤销导入: a wrong file saved into the ledger is taken back as a whole (voided, never deleted)
function undoButton(job, node) {
  const undo = el("button", { class: "secondary undo-job", text: "撤销本次导入", onclick: async () => {
    if (!window.confirm(`撤销“${job.input_name}”的导入？本次新登记的 ${job.saved || 0} 条将作废（记录保留，可在台账按“已作废”查看）；已有人办理过的条目会保留。`)) return;
    undo.disabled = true;
    try {
      const out = await api(`/api/jobs/${job.id}/undo`, { method: "POST" });
      undo.remove();
      node.append(el("div", { class: "note", text: `已撤销：${out.voided} 条作废。`
        + (out.kept.length ? `编号 ${out.kept.join("、")} 已有人办理或更正，保留未动，请人工核对。` : "")
        + (out.repeats ? `记入原有条目（编号 ${out.repeat_entries.join("、")}）的 ${out.repeats} 次重复来电已撤回。` : "")
        + (out.advanced ? `按更新后的台账改过的 ${out.advanced} 条办理状态没有撤回，请在台账中逐条核对。` : "") }));
    } catch (err) { undo.disabled = false; window.alert(err.message); }
  } });
  return undo;
}

// ---------- ledger from the chat ----------
async function changeEntryOwner(entry, owner) {
  if (owner === entry.owner) return botText(`编号 ${entry.id} 的责任主体已经是${owner}。`);
  const note = window.prompt(`把编号 ${entry.id} 转交给${owner}的原因（记入办理记录）：`, "");
  if (!note || !note.trim()) return botText("没有写原因，未转交。");
  await handOver(entry, owner, note.trim());
}
// 转交 with its reason (it goes into the 办理记录)
async function handOver(entry, owner, reason) {
  const u = await api(`/api/entries/${entry.id}`, { method: "PATCH", json: { owner, note: reason, seen: entry.updated } });
  botText(`编号 ${u.id} 已转交${u.owner}（原因：${reason}）。`);
}
// 办理情况 grows: new words are added after what was there ("…；承办：维修组李师傅"), not written over it
function withProgress(response, words) {
  return response && !response.includes(words) ? `${response}；${words}` : words;
}
// the verdict in a 回访 sentence, the strongest wording first ("不太满意" before "满意")
const VISIT_WORDS = /(非常不满意|很不满意|不太满意|不大满意|不怎么满意|不是很满意|不够满意|不满意|非常满意|很满意|挺满意|比较满意|基本满意|满意|一般|还行|凑合|([1-5])\s*分)/;
const VISIT_SCORES = { 很满意: 5, 挺满意: 5, 还行: 3, 凑合: 3, 非常满意: 5, 满意: 5, 比较满意: 4, 基本满意: 4, 一般: 3, 不满意: 2, 不太满意: 2, 不大满意: 2, 不怎么满意: 2,
  不是很满意: 2, 不够满意: 2, 很不满意: 1, 非常不满意: 1 };
const STATUS_WORDS = { 派单: "已派单", 办理中: "办理中", 在办: "办理中", 开始办理: "办理中", 办结: "已办结", 办完: "已办结", 销号: "已销号",
  作废: "已作废", 办好: "已办结", 修好: "已办结", 弄好: "已办结", 处理好: "已办结", 处理: "已办结" };
async function setStatus(id, body) {
  const entry = await api(`/api/entries/${id}`);  // 404 says the 编号 is unknown
  return api(`/api/entries/${id}/status`, { method: "POST", json: { ...body, seen: entry.updated } });
}
async function showEntry(id) {
  const [e, history] = await Promise.all([api(`/api/entries/${id}`), api(`/api/entries/${id}/history`)]);
  const late = e.overdue === "red" ? "（已逾期）" : e.overdue === "yellow" ? "（将逾期）" : "";
  const rows = [["问题", problemText(e)], ["类别", e.category_name || catName(e.category)], ["责任主体", [e.owner, ...(e.co_owners || [])].filter(Boolean).join("、")],
    ["办理时限", fmtTime(e.deadline) + late], ["状态", e.status], ["地点", e.location], ["反映人", e.contact || (e.speakers || []).join("、")],
    ["办理情况", e.response], ["回访", e.satisfaction ? `${e.satisfaction} 分${e.feedback ? `，${e.feedback}` : ""}` : ""]]
    .filter(([, v]) => v);
  const table = el("table", { class: "entry-card" }, ...rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v }))));
  const last = history.filter((h) => !HIDDEN_FIELDS.includes(h.field)).slice(-4).map((h) => el("li", { text: historyLine(h) }));
  botNode(el("div", { text: `编号 ${e.id}：` }), table, last.length ? el("div", { class: "muted", text: "最近的办理记录：" }) : null,
    last.length ? el("ul", { class: "history" }, ...last) : null);
}

// ---------- ledger ----------
// Correct a saved entry's category in place: it is re-routed (owner, deadline) and the correction is stored.
function entryCategorySelect(entry, after) {
  const select = el("select", { "aria-label": "更正类别", class: "cat-select" });
  for (const c of state.taxonomy.categories) {
    const o = el("option", { value: c.code, text: c.name });
    if (c.code === entry.category) o.selected = true;
    select.append(o);
  }
  select.addEventListener("change", async () => {
    try {
      const updated = await api(`/api/entries/${entry.id}/correct`, { method: "POST", json: { category: select.value, seen: entry.updated } });
      Object.assign(entry, updated);
      if (after) after(updated);
    } catch (err) { window.alert(err.message); select.value = entry.category; }
  });
  return select;
}
function entryTable(items, correctable = false, visit = false) {
  // visit: the 回访 list shows who to call and what was done instead of the deadline and status
  const body = el("tbody");
  // data-label: on a phone each row becomes a card and every cell says what it is (a 物业 trial's 346 px chat)
  const heads = ["编号", "问题", "类别", "责任主体", ...(visit ? ["反映人", "办理情况"] : ["办理时限", "地点", "状态"])];
  for (const e of items) body.append(el("tr", { class: visit ? "" : e.overdue || "" },
    ...[el("td", { text: String(e.id) }),
      el("td", {}, e.urgent ? el("span", { class: "badge urgent", text: "紧急" }) : null, ` ${e.summary || e.text}`),
      correctable ? el("td", {}, entryCategorySelect(e, (u) => botText(`已更正编号 ${u.id}：${u.category_name}，责任主体 ${u.owner}，办理时限 ${fmtTime(u.deadline)}。`)))
        : el("td", { text: e.category_name || catName(e.category) }),
      el("td", { text: e.owner || "" }),
      ...(visit ? [el("td", { text: e.contact || (e.speakers || []).join("、") || "—" }), el("td", { text: e.response || "" })]
        : [el("td", { text: fmtTime(e.deadline) + (e.overdue === "red" ? "（已逾期）" : "") }), el("td", { text: e.location || "" }),
          el("td", { text: e.status || "" })])].map((td, i) => { td.dataset.label = heads[i]; return td; })));
  return el("div", { class: "table-wrap" }, el("table", { class: "answer-table" },
    el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { text: h })))), body));
}
function fillFilters() {
  const s = $("#f-status");
  if (s.options.length > 2) return;
  s.append(el("option", { value: "未办结", text: "未办结（待派单、已派单、办理中）" }));  // what an owner still has to do
  for (const st of STATUSES) s.append(el("option", { value: st, text: st }));
  for (const c of state.taxonomy.categories) $("#f-category").append(el("option", { value: c.code, text: c.name }));
  for (const o of OWNERS) $("#f-owner").append(el("option", { value: o, text: o }));
  try {
    const kept = JSON.parse(sessionStorage.getItem("triage-filters") || "[]");
    FILTER_IDS.forEach((id, i) => { if (kept[i]) setFilter(id, kept[i]); });
  } catch (err) { sessionStorage.removeItem("triage-filters"); }
  showJobChip();
}
// 社区: offered only once uploaded tickets named their 所属社区 (a 街道 desk's export covers several)
async function fillCommunities(id = "#f-community") {
  try {
    const names = await api("/api/communities");
    if (state.community && !names.includes(state.community)) names.unshift(state.community);
    const pick = $(id);
    // the first time, one's own 社区 (an admin trial's 书记 opened on all three and exported them all)
    const first = !pick.dataset.filled;
    pick.dataset.filled = "1";
    const chosen = pick.value || pick.dataset.want || (first && state.community) || "";
    pick.replaceChildren(el("option", { value: "", text: "全部社区" }), ...names.map((n) => el("option", { value: n, text: n })));
    pick.value = names.includes(chosen) ? chosen : "";
    pick.hidden = !names.length;
    delete pick.dataset.want;
  } catch (err) { /* the list works without it */ }
}
// #f-job-name is a label, not an input: it keeps the upload's file name for the chip
const filterValue = (id) => (id === "#f-job-name" ? $(id).textContent : $(id).value);
function setFilter(id, value) {
  if (id === "#f-job-name") $(id).textContent = value;
  else $(id).value = value;
  if (id === "#f-community") $(id).dataset.want = value;  // its options may not be there yet
}
function showJobChip() { $("#f-job-chip").hidden = !$("#f-job").value; }
// 在台账中查看: the ledger shows only the entries one upload entered (its file name on a chip, ✕ shows all again)
function showUpload(job) {
  fillFilters();
  for (const id of FILTER_IDS) setFilter(id, "");
  setFilter("#f-job", job.id);
  setFilter("#f-job-name", `只看上传“${job.input_name}”录入的`);
  showJobChip();
  history.pushState(null, "", "#ledger");
  showView("ledger");
}
function jobViewButton(job) {
  return el("button", { class: "secondary view-job", text: "在台账中查看", onclick: () => showUpload(job) });
}
// each 台账 filter and its query parameter
const FILTERS = [["#f-status", "status"], ["#f-category", "category"], ["#f-owner", "owner"], ["#f-community", "community"], ["#f-overdue", "overdue"],
  ["#f-q", "q"], ["#f-from", "date_from"], ["#f-to", "date_to"], ["#f-job", "job"], ["#f-job-name", null]];
const FILTER_IDS = FILTERS.map(([id]) => id);
function ledgerFilters(params = new URLSearchParams()) {  // what the ledger page shows is what 导出 exports
  // kept for this tab, so a reload shows the same selection (gone with the tab or on 退出)
  sessionStorage.setItem("triage-filters", JSON.stringify(FILTER_IDS.map(filterValue)));
  for (const [id, key] of FILTERS) {
    if (key && $(id).value) params.set(key, $(id).value);
  }
  return params;
}
let ledgerRequest = 0;
async function loadLedger() {
  await fillCommunities();  // an upload since may have named a new 社区
  const params = ledgerFilters(new URLSearchParams({ limit: "200" }));
  const tbody = $("#ledger-table tbody");
  const mine = ++ledgerRequest;  // filters changed quickly: only the latest answer is shown
  try {
    const data = await api(`/api/entries?${params}`);
    if (mine !== ledgerRequest) return;
    tbody.replaceChildren();
    for (const e of data.items) {
      const select = el("select", { "aria-label": "办理状态" });
      for (const st of STATUSES) { const o = el("option", { value: st, text: st }); if (st === e.status) o.selected = true; select.append(o); }
      select.addEventListener("change", () => changeStatus(e, select));
      const summary = el("td", { "data-label": "问题" }, e.urgent ? el("span", { class: "badge urgent", text: "紧急" }) : null,
        e.needs_review ? el("span", { class: "badge review", text: "待复核" }) : null, ` ${problemText(e)}`);
      // data-label: on a phone each row is a card and every cell says what it is
      // a 12345 ticket's own number and the 社区 it belongs to, which a 街道 desk sorts by (desk trial)
      const number = el("td", { "data-label": "编号" }, String(e.id), e.ref ? el("div", { class: "muted small", text: e.ref }) : null);
      tbody.append(el("tr", { class: e.overdue || "" }, number, summary,
        el("td", { "data-label": "类别" }, entryCategorySelect(e, () => loadLedger())), el("td", { "data-label": "责任主体", text: e.owner || "" }),
        el("td", { "data-label": "办理时限", text: fmtTime(e.deadline) + (e.overdue === "red" ? "（已逾期）" : e.overdue === "yellow" ? "（将逾期）" : "") }),
        el("td", { "data-label": "社区/地点", text: [e.community, e.location].filter(Boolean).join(" · ") }),
        el("td", { "data-label": "状态" }, select),
        el("td", { "data-label": "" }, el("button", { class: "secondary small", text: "办理", "aria-label": `办理编号 ${e.id}`,
          onclick: (ev) => toggleDetail(e, ev.target.closest("tr")) }))));
    }
    $("#ledger-info").textContent = `共 ${data.total} 条`;
  } catch (err) {
    if (mine !== ledgerRequest) return;
    tbody.replaceChildren();  // a refused filter (a reversed date range) shows its reason, not the old list
    $("#ledger-info").textContent = err.message;
  }
}
// The problem as written: a summary cut at 60 characters gives way to the whole text.
function problemText(e) {
  const cut = (e.summary || "").replace(/…$/, "");
  return !e.summary || (e.text.startsWith(cut) && e.text.length <= 300) ? e.text : e.summary;
}
const ARCHIVED = ["已销号", "已作废"];
// 办理: the entry's words, its 办理记录, a reply box and handing it to another owner, below its row.
async function toggleDetail(entry, row) {
  const open = row.nextElementSibling;
  if (open && open.classList.contains("detail")) {
    const box = open.querySelector("textarea");
    if (box && box.value.trim() !== (entry.response || "").trim() && !window.confirm("办理情况还没保存，确定收起吗？")) return;
    open.remove();
    return;
  }
  const cell = el("td", { colspan: "8" });
  row.after(el("tr", { class: "detail" }, cell));
  try {
    if (!state.communities) state.communities = await api("/api/communities").catch(() => []);  // the 社区 box's choices
    const history = await api(`/api/entries/${entry.id}/history`);
    const reply = el("textarea", { rows: "3", maxlength: "2000", "aria-label": "办理情况", placeholder: "办理情况：怎么处理的、处理到哪一步" });
    reply.value = entry.response || "";
    reply.dataset.saved = entry.response || "";
    const owner = el("select", { "aria-label": "转交给" });
    for (const o of OWNERS) { const opt = el("option", { value: o, text: o }); if (o === entry.owner) opt.selected = true; owner.append(opt); }
    const reason = el("input", { type: "text", maxlength: "500", "aria-label": "转交原因", placeholder: "转交原因（必填）" });
    const save = async (changes, note) => {
      const buttons = [...cell.querySelectorAll("button")];
      if (buttons.some((b) => b.disabled)) return;  // a double click sends once
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const updated = await api(`/api/entries/${entry.id}`, { method: "PATCH", json: { ...changes, ...(note ? { note } : {}), seen: entry.updated } });
        Object.assign(entry, updated);
        cell.closest("tr").remove();
        loadLedger();
      } catch (err) {
        if (err.status === 409 && /已被修改/.test(err.message)) {  // a colleague saved in between: take theirs, keep what she typed
          const fresh = await api(`/api/entries/${entry.id}`).catch(() => null);
          if (fresh) {
            Object.assign(entry, fresh);
            const theirs = (fresh.response || "").trim();
            window.alert(`${err.message}\n已载入最新内容${theirs && theirs !== reply.value.trim() ? `（现在的办理情况：${theirs}）` : ""}。您写的内容还在输入框里，核对后再点一次保存即可。`);
            buttons.forEach((b) => { b.disabled = false; });
            return;
          }
        }
        window.alert(err.message); buttons.forEach((b) => { b.disabled = false; });
      }
    };
    const archived = ARCHIVED.includes(entry.status);
    cell.append(...[  // nulls are the parts an archived entry does not show
      el("p", {}, el("strong", { text: "原文：" }), entry.text),
      (entry.quotes || []).length ? el("p", {}, el("strong", { text: "居民原话：" }), entry.quotes.map((q) => `“${q}”`).join(" ")) : null,
      el("p", {}, el("strong", { text: "协办：" }), (entry.co_owners || []).join("、") || "无"),
      entry.ref ? el("p", {}, el("strong", { text: "工单编号：" }), entry.ref) : null,
      entry.contact ? el("p", {}, el("strong", { text: "来电人：" }), entry.contact) : null,
      (entry.notes || []).length ? el("p", {}, el("strong", { text: "备注：" }), entry.notes.join("；")) : null,
      archived ? el("p", { class: "muted", text: `这条记录${entry.status}，已归档，只能查看。` }) : null,
      archived ? null : el("div", { class: "detail-row" }, reply, el("button", { text: "保存办理情况", onclick: () => {
        if (!reply.value.trim()) return window.alert("办理情况不能为空。");
        save({ response: reply.value.trim() });
      } })),
      archived ? null : el("div", { class: "detail-row" }, el("span", { text: "转交给" }), owner, reason, el("button", { class: "secondary", text: "转交", onclick: () => {
        if (owner.value === entry.owner) return window.alert("责任主体没有变化。");
        if (!reason.value.trim()) return window.alert("请写明转交原因，例如：属市政道路，不在物业管理范围。");
        save({ owner: owner.value }, reason.value.trim());
      } })),
      archived ? null : communityRow(entry, save),
      archived || DONE_STATUSES.includes(entry.status) ? null : timeRow(entry, save),
      archived || DONE_STATUSES.includes(entry.status) ? null : mergeRow(entry, cell),
      archived || DONE_STATUSES.includes(entry.status) ? null : splitRow(entry, cell),
      el("strong", { text: "办理记录" }),
      el("ol", { class: "history" }, ...history.filter((h) => !HIDDEN_FIELDS.includes(h.field)).map((h) => el("li", { text: historyLine(h) })))]
      .filter(Boolean));
    row.nextElementSibling.scrollIntoView({ block: "nearest" });
  } catch (err) { cell.textContent = err.message; }
}
// 社区: an entry from notes names "12栋", never the community; the 书记's per-社区 report needs it
function communityRow(entry, save) {
  const list = el("datalist", { id: `communities-${entry.id}` }, ...(state.communities || []).map((c) => el("option", { value: c })));
  const input = el("input", { type: "text", maxlength: "40", class: "narrow wide-enough", list: list.id, "aria-label": "所属社区",
    placeholder: "如 东湖社区" });
  input.value = entry.community || "";
  return el("div", { class: "detail-row" }, el("span", { text: "所属社区" }), input, list,
    el("button", { class: "secondary", text: "保存社区", onclick: () => {
      const value = input.value.trim();
      if (!value) return window.alert("请填写社区名称，例如：东湖社区。");
      if (value === (entry.community || "")) return window.alert("所属社区没有变化。");
      save({ community: value });
    } }));
}
// 调整时限: a wrong 紧急 or a 办理时限 agreed with the resident, always with a reason (it goes into the 办理记录)
function timeRow(entry, save) {
  const urgent = el("input", { type: "checkbox", "aria-label": "紧急" });
  urgent.checked = Boolean(entry.urgent);
  const deadline = el("input", { type: "text", maxlength: "40", class: "narrow wide-enough", "aria-label": "新的办理时限",
    placeholder: "如 12-04 或 2026-12-04 18:00" });
  const reason = el("input", { type: "text", maxlength: "500", "aria-label": "调整原因", placeholder: "调整原因（必填）" });
  return el("div", { class: "detail-row" }, el("label", {}, urgent, " 紧急"), el("span", { text: "办理时限改为" }), deadline, reason,
    el("button", { class: "secondary", text: "调整时限", onclick: () => {
      const changes = {};
      if (urgent.checked !== Boolean(entry.urgent)) changes.urgent = urgent.checked;
      if (deadline.value.trim()) changes.deadline = deadline.value.trim();
      if (!Object.keys(changes).length) return window.alert("紧急程度和办理时限都没有变化。");
      if (!reason.value.trim()) return window.alert("请写明原因，例如：经核实不属于紧急情况；与居民商定延期。");
      save(changes, reason.value.trim());
    } }));
}
// 并入: this entry is the same problem as another (a 疑似重复 names the one it resembles, so that is offered).
const DONE_STATUSES = ["已办结", "已回访", "已销号"];
function mergeRow(entry, cell) {
  const like = (entry.notes || []).map((n) => /疑似重复：与台账第 (\d+) 条相近/.exec(n)).find(Boolean);
  const into = el("input", { type: "number", min: "1", step: "1", "aria-label": "并入的编号", placeholder: "编号", class: "narrow" });
  if (like) into.value = like[1];
  return el("div", { class: "detail-row" }, el("span", { text: like ? "与编号 " + like[1] + " 是同一问题？并入" : "重复登记？并入编号" }), into,
    el("button", { class: "secondary", text: "并入", onclick: async (ev) => {
      const target = Number(into.value);
      if (!Number.isInteger(target) || target < 1) return window.alert("请填写要并入的台账编号。");
      if (!window.confirm(`把编号 ${entry.id} 并入编号 ${target}？编号 ${entry.id} 将作废（保留记录），它的内容记为编号 ${target} 的一次重复反映。`)) return;
      ev.target.disabled = true;
      try {
        await mergeEntries(entry.id, target, entry.updated);
        cell.closest("tr").remove();
        loadLedger();
      } catch (err) { window.alert(err.message); ev.target.disabled = false; }
    } }));
}
// 拆分: words of this entry that are another problem become an entry of their own (select them in 原文 first).
function splitRow(entry, cell) {
  const words = el("input", { type: "text", maxlength: "5000", class: "wide", "aria-label": "要拆出的文字",
    placeholder: "含两个问题？在上面的原文中选中另一个问题的文字，或复制到这里" });
  cell.addEventListener("mouseup", () => {  // a selection inside the 原文 fills the box
    const picked = String(window.getSelection() || "").trim();
    if (picked && (entry.text || "").includes(picked)) words.value = picked;
  });
  return el("div", { class: "detail-row" }, el("span", { text: "拆出另一个问题" }), words,
    el("button", { class: "secondary", text: "拆分", onclick: async (ev) => {
      const part = words.value.trim();
      if (!part) return window.alert("请先在原文中选中（或复制到输入框）属于另一个问题的那段文字。");
      if (!(entry.text || "").includes(part)) return window.alert("输入的文字不在原文里，请从原文中原样复制。");
      if (!window.confirm(`把“${part.slice(0, 40)}”从编号 ${entry.id} 拆出，另立一条新问题？`)) return;
      ev.target.disabled = true;
      try {
        const [kept, made] = await splitEntry(entry.id, part, entry.updated);
        window.alert(splitSaid(kept, made));
        loadLedger();
      } catch (err) { window.alert(err.message); ev.target.disabled = false; }
    } }));
}
async function splitEntry(id, text, seen) {
  return api(`/api/entries/${id}/split`, { method: "POST", json: seen ? { text, seen } : { text } });
}
function splitSaid(kept, made) {
  return `已拆分：编号 ${kept.id} 保留“${problemText(kept).slice(0, 30)}”（${kept.category_name}，${kept.owner || "无"}）；`
    + `拆出的问题登记为编号 ${made.id}（${made.category_name}，${made.owner || "无"}，办理时限 ${made.deadline ? fmtTime(made.deadline) : "无"}${made.urgent ? "，紧急" : ""}），状态待派单。`;
}
async function mergeEntries(from, into, seen) {
  return api(`/api/entries/${from}/merge`, { method: "POST", json: seen ? { into, seen } : { into } });
}
// One line of the 办理记录 in words: no codes, JSON or ISO stamps.
const FIELD_LABELS = { text: "原文", response: "办理情况", owner: "责任主体", location: "地点", summary: "问题内容", category_name: "类别", community: "社区",
  co_owners: "协办单位", deadline: "办理时限", urgent: "紧急", satisfaction: "满意度", feedback: "回访意见" };
const HIDDEN_FIELDS = ["category", "corrected", "needs_review", "quotes", "secondary", "confidence"];  // said by 类别 and the 人工更正 note
const SOURCES = { extract: "纪要", tag: "工单批量导入", classify: "单条登记", open311: "Open311", notes: "纪要", ledger: "原台账导入" };
function historyLine(h) {
  if (h.field === "repeat" || h.field === "repeat_undone") return `${fmtTime(h.at)} ${h.note}`;  // 重复来电：工单 GD…
  let value = h.to_value ?? "";
  if (h.field === "co_owners") { try { value = JSON.parse(value || "[]").join("、") || "无"; } catch (err) { /* shown as stored */ } }
  if (h.field === "deadline" && value) value = fmtTime(value);
  if (h.field === "urgent") value = value === "True" || value === "1" ? "是" : "否";
  let note = h.note || "";
  if (h.field === "status" && h.from_value === null) note = note.replace(/来源：([\w ]+)/, (_, s) => `来源：${SOURCES[s.trim()] || s}`);
  if (note === value) note = "";  // 办结 with a note: the note became the 办理情况
  // "import": a closing an old ledger records without its date
  const what = h.field === "status" ? value : h.field === "import" ? `${value}（时间不详）`
    : `${FIELD_LABELS[h.field] || h.field}：${value || "（空）"}`;
  return `${fmtTime(h.at)} ${h.who || ""} ${what}${note ? `（${note}）` : ""}`;
}
async function changeStatus(entry, select) {
  const body = { status: select.value, seen: entry.updated };  // a colleague's change in between → 409, not overwritten
  if (select.value === "已办结") {  // closing needs a result; a second closing after a reopen has its own
    const result = window.prompt("办理结果（怎么解决的，将记入办理情况）：", entry.response || "");
    if (!result || !result.trim()) { select.value = entry.status; return; }
    body.note = result.trim();
    // the day it was really done (a repair on Sunday typed in on Monday still counts as on time)
    const when = window.prompt("实际办结时间（如 11-22 16:00；不填为现在）：", "");
    if (when === null) { select.value = entry.status; return; }
    if (when.trim()) body.done_at = when.trim();
  }
  if (entry.status === "已销号" && select.value !== "已销号") {  // administrators only, with a reason
    if (state.role !== "admin") { window.alert("已销号的记录只有管理员可以重新打开。"); select.value = entry.status; return; }
    const reason = window.prompt("重新打开的原因（例如：误销号、居民再次反映）：", "");
    if (!reason || !reason.trim()) { select.value = entry.status; return; }
    body.note = reason.trim();
  }
  if (select.value === "已回访") {
    const score = window.prompt("回访满意度：1–5 分，或 满意 / 基本满意 / 一般 / 不满意 / 非常不满意：", "");
    if (score === null) { select.value = entry.status; return; }
    const said = score.trim();
    if (!/^[1-5]$/.test(said) && !(said in VISIT_SCORES)) { window.alert("满意度请填 1 到 5 的整数，或 满意、基本满意、一般、不满意、非常不满意。"); select.value = entry.status; return; }
    body.satisfaction = /^[1-5]$/.test(said) ? Number(said) : VISIT_SCORES[said];
    body.feedback = window.prompt("居民意见（可不填）：", "") || "";
  }
  if (select.value === "已作废") {  // voided, never deleted: the reason stays in the record
    const reason = window.prompt("作废原因（例如：重复登记、录入错误）：", "");
    if (!reason || !reason.trim()) { select.value = entry.status; return; }
    body.note = reason.trim();
  }
  try {
    const updated = await api(`/api/entries/${entry.id}/status`, { method: "POST", json: body });
    if (body.status === "已回访" && updated.status !== "已回访") {
      window.alert(`满意度 ${body.satisfaction} 分，居民不满意：已退回“${updated.status}”，请继续办理。`);
    }
    Object.assign(entry, { status: updated.status, updated: updated.updated, response: updated.response });
    select.value = updated.status;
  } catch (err) {
    if (err.status === 409 && /已被修改/.test(err.message)) {  // take the colleague's version, so the next try goes through
      const fresh = await api(`/api/entries/${entry.id}`).catch(() => null);
      if (fresh) Object.assign(entry, fresh);
      window.alert(`${err.message}\n已载入最新内容（现在的状态：${entry.status}），请再选一次。`);
    } else window.alert(err.message);
    select.value = entry.status;
  }
}
$("#f-go").addEventListener("click", loadLedger);
$("#s-owner").addEventListener("change", loadStats);
$("#s-month").addEventListener("change", loadStats);
$("#s-community").addEventListener("change", loadStats);
for (const id of FILTER_IDS) if (!["#f-q", "#f-job", "#f-job-name"].includes(id)) $(id).addEventListener("change", loadLedger);
$("#f-job-clear").addEventListener("click", () => { setFilter("#f-job", ""); setFilter("#f-job-name", ""); showJobChip(); loadLedger(); });  // the search box waits for Enter
$("#f-q").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); loadLedger(); } });
$("#f-q").addEventListener("search", loadLedger);  // the × that clears the box shows everything again
// a 办理情况 typed and not saved is not lost without a word
window.addEventListener("beforeunload", (e) => {
  const open = [...document.querySelectorAll("tr.detail textarea")].some((t) => t.value.trim() && t.value.trim() !== (t.dataset.saved || "").trim());
  if (open) { e.preventDefault(); e.returnValue = ""; }
});
$("#export").addEventListener("click", () => {
  const params = ledgerFilters().toString();
  download(`/api/ledger.xlsx${params ? `?${params}` : ""}`, "问题台账.xlsx").catch((e) => window.alert(e.message));
});

// ---------- stats ----------
// The API's ISO week "2026-W48" as staff say it: "2026年第48周" (or "第48周" under a chart).
// "2026-W48" as the days it covers: 11月23日–29日 (a chart's axis: 11/23), not an ISO week number staff do not use
function weekName(key, withYear = true) {
  const m = /^(\d+)-W0?(\d+)$/.exec(String(key));
  if (!m) return String(key);
  const jan4 = new Date(Date.UTC(Number(m[1]), 0, 4));
  const monday = new Date(jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * 86400000 + (Number(m[2]) - 1) * 7 * 86400000);
  const sunday = new Date(monday.getTime() + 6 * 86400000);
  const md = (d) => `${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
  if (!withYear) return `${monday.getUTCMonth() + 1}/${monday.getUTCDate()}`;
  return `${md(monday)}–${monday.getUTCMonth() === sunday.getUTCMonth() ? `${sunday.getUTCDate()}日` : md(sunday)}`;
}
// Draw at the screen's pixel density (sharp on phones and HiDPI laptops); W × H are the CSS sizes.
function sharp(canvas) {
  const W0 = Number(canvas.dataset.w || canvas.getAttribute("width")), H = Number(canvas.dataset.h || canvas.getAttribute("height"));
  canvas.dataset.w = W0; canvas.dataset.h = H;
  // drawn at the width it is shown at, so 13 px text stays 13 px instead of being scaled down
  const room = canvas.parentElement ? canvas.parentElement.clientWidth - 20 : W0;
  const W = room > 0 ? Math.max(240, Math.min(W0, room)) : W0;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  canvas.style.width = `${W}px`; canvas.style.maxWidth = "100%";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [ctx, W, H];
}
function barChart(canvas, data, color = "#1f6feb") {
  const [ctx, W, H] = sharp(canvas);
  const entries = Object.entries(data || {}).slice(0, 12);
  ctx.clearRect(0, 0, W, H);
  ctx.font = "13px sans-serif";
  if (!entries.length) { ctx.fillStyle = "#7b8794"; ctx.fillText("暂无数据", 10, 30); return; }
  const max = Math.max(...entries.map(([, v]) => v), 1);
  const rowH = Math.min(28, (H - 10) / entries.length);
  entries.forEach(([k, v], i) => {
    const y = 5 + i * rowH;
    ctx.fillStyle = "#3e4c59";
    ctx.fillText(String(k).slice(0, 10), 4, y + rowH * 0.65);
    const w = ((W - 190) * v) / max;
    ctx.fillStyle = color;
    ctx.fillRect(150, y + 3, w, rowH - 8);
    ctx.fillStyle = "#1f2933";
    ctx.fillText(String(v), 156 + w, y + rowH * 0.65);
  });
}
function lineChart(canvas, data) {
  const [ctx, W, H] = sharp(canvas);
  const entries = Object.entries(data || {});
  ctx.clearRect(0, 0, W, H);
  ctx.font = "12px sans-serif";
  if (!entries.length) { ctx.fillStyle = "#7b8794"; ctx.fillText("暂无回访数据", 10, 30); return; }
  const x = (i) => 40 + (i * (W - 60)) / Math.max(entries.length - 1, 1);
  const y = (v) => H - 30 - ((v - 1) / 4) * (H - 50);
  ctx.strokeStyle = "#2f9e44"; ctx.lineWidth = 2; ctx.beginPath();
  if (entries.length === 1) ctx.arc(x(0), y(entries[0][1]), 3, 0, 2 * Math.PI);  // one week: a dot, not nothing
  entries.forEach(([, v], i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
  ctx.stroke();
  ctx.fillStyle = "#3e4c59";
  entries.forEach(([k, v], i) => { ctx.fillText(String(v), x(i) - 8, y(v) - 6); ctx.fillText(weekName(k, false), x(i) - 14, H - 10); });
}
const pct = (share) => (share === null || share === undefined ? "—" : `${Math.round(share * 100)}%`);
let statsRequest = 0;
async function loadStats() {
  const pick = $("#s-owner");
  if (pick.options.length === 1) for (const o of OWNERS) pick.append(el("option", { value: o, text: o }));
  await fillCommunities("#s-community");  // a 街道 desk reports per 社区
  try {
    const query = new URLSearchParams();
    if (pick.value) query.set("owner", pick.value);
    if ($("#s-community").value) query.set("community", $("#s-community").value);
    if ($("#s-month").value) { query.set("date_from", $("#s-month").value); query.set("date_to", $("#s-month").value); }
    const mine = ++statsRequest;
    const s = await api(`/api/stats${query.toString() ? `?${query}` : ""}`);
    if (mine !== statsRequest) return;  // the owner or month changed again meanwhile
    $("#stat-cards").replaceChildren(...[[pick.value ? "台账总数（牵头和协办）" : "台账总数", s.total], ["已逾期", s.overdue.red], ["将逾期", s.overdue.yellow],
      ["平均满意度", s.satisfaction.average ?? "—"], ["办结率", pct(s.rates.closed)], ["按时办结率", pct(s.rates.on_time)],
      ["满意率", pct(s.rates.satisfied)], ["人工更正", `${Math.round(s.corrected_share * 100)}%`]]
      .map(([k, v]) => el("div", { class: "stat" }, el("b", { text: String(v) }), k)));
    barChart($("#chart-category"), s.by_category);
    barChart($("#chart-owner"), s.by_owner, "#7048e8");
    const communities = s.by_community || {};
    $("#fig-community").hidden = !Object.keys(communities).length;
    if (Object.keys(communities).length) barChart($("#chart-community"), communities, "#2b8a3e");
    const weeks = Object.fromEntries(Object.entries(s.by_week || {}).map(([k, v]) => [weekName(k), v]));
    barChart($("#chart-week"), weeks, "#0b7285");
    lineChart($("#chart-satisfaction"), s.satisfaction.by_week);
    const people = Object.entries(s.by_person || {});  // who entered, who closed, whose entries are late
    $("#fig-people").hidden = !people.length;
    $("#people-table tbody").replaceChildren(...people.map(([who, n]) => el("tr", { class: n.overdue ? "red" : "" },
      el("td", { "data-label": "人员", text: who || "（未记名）" }), el("td", { "data-label": "登记", text: String(n.entered) }),
      el("td", { "data-label": "办结", text: String(n.closed) }), el("td", { "data-label": "登记后仍逾期", text: String(n.overdue) }))));
  } catch (err) { $("#stat-cards").replaceChildren(el("div", { class: "error", text: err.message })); }
}

// ---------- tabs ----------
// Each tab is a history entry (#ledger, #stats): the phone's back gesture returns to the last tab
// instead of leaving the page, and a reload stays on the tab.
function showView(view) {
  const tab = document.querySelector(`.tab[data-view="${view}"]`) || document.querySelector(".tab");
  for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t === tab);
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== `view-${tab.dataset.view}`;
  if (tab.dataset.view === "ledger") loadLedger();
  if (tab.dataset.view === "stats") loadStats();
}
for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    const hash = tab.dataset.view === "chat" ? "" : `#${tab.dataset.view}`;
    if (location.hash !== hash) history.pushState(null, "", hash || location.pathname);
    showView(tab.dataset.view);
  });
}
window.addEventListener("popstate", () => { if (state.taxonomy) showView(location.hash.slice(1) || "chat"); });

if (state.token) login(state.token).catch(() => logout(""));
else logout("");
