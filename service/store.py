"""The SQLite ledger (sqlite-utils): entries, history, corrections, tokens, jobs, models.

One `Store` per request or thread: a sqlite3 connection can't cross threads. WAL mode and a
busy timeout let many writers queue instead of failing; every write runs in `BEGIN IMMEDIATE`
so two writers never deadlock upgrading a read lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils

from triage.normalize import normalize
from triage.places import cn_number, find_places, place_keys

from .errors import StoreError
from .settings import ROLES

__all__ = ["DONE", "ROLES", "SCHEMA_VERSION", "STATUSES", "Store", "StoreError", "hash_token", "like_escape", "split_words",
           "text_key"]

SCHEMA_VERSION = 16  # the last of MIGRATIONS (a test checks)
STATUSES = ("待派单", "已派单", "办理中", "已办结", "已回访", "已销号", "已作废")
_RANK = {"待派单": 0, "已派单": 1, "办理中": 2, "已办结": 3, "已回访": 4, "已销号": 5}  # how far along (作废 aside)
DONE = ("已办结", "已回访", "已销号")  # handled: the 办结率 counts these
CLOSED = (*DONE, "已作废")
FINAL = ("已销号", "已作废")  # the record is archived: no more edits (已作废 can only be restored to 待派单)
# Allowed status moves; an unsatisfied 回访 sends the entry back to 办理中 (see `set_status`).
# 已作废 voids a duplicate or a row entered by mistake (a reason is required); it is never deleted.
# A problem answered on the spot (a question settled on the phone, 即办件) may be closed straight away,
# with its result, like any 办结.
MOVES = {
    "待派单": ("已派单", "办理中", "已办结", "已作废"),
    "已派单": ("办理中", "待派单", "已办结", "已作废"),
    "办理中": ("已办结", "已派单", "已作废"),
    "已办结": ("已回访", "办理中", "已作废"),
    "已回访": ("已销号", "办理中"),
    "已销号": (),
    "已作废": ("待派单",),
}
REOPEN = {"已销号": ("办理中",)}  # an administrator may undo a 销号 made by mistake, with a reason
_NOT_WORD = re.compile(r"[\W_]+")
JSON_FIELDS = ("secondary", "co_owners", "speakers", "quotes", "notes")


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256 only; the plain token is shown once at creation."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _local_minute(stamp: str, zone: str = "Asia/Shanghai") -> str:
    """"2026-11-20T02:12:00+00:00" → "2026-11-20 10:12" in the community's time, for a history note."""
    from zoneinfo import ZoneInfo

    try:
        when = dt.datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return str(stamp)[:16]
    if when.tzinfo is not None:
        when = when.astimezone(ZoneInfo(zone))
    return when.strftime("%Y-%m-%d %H:%M")


def _local_day(stamp: str, zone: str = "Asia/Shanghai") -> str:
    """The community's calendar day of an ISO time ("2026-11-24T23:30:00+00:00" is 11-25 in Beijing)."""
    return _local_minute(stamp, zone)[:10]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _later_than(previous: str | None) -> str:
    """Now, or one second after `previous` if the clock has not moved past it yet.

    `updated` has one-second resolution and is what a stale view is detected by (`seen`): two
    changes to one entry within the same second must still get different stamps.
    """
    now = dt.datetime.fromisoformat(_now())
    if previous and now <= (last := dt.datetime.fromisoformat(previous)):
        now = last + dt.timedelta(seconds=1)
    return now.isoformat(timespec="seconds")


def _migrate_1(db: sqlite_utils.Database) -> None:
    db["tokens"].create({"id": int, "name": str, "role": str, "token_hash": str, "created": str, "revoked": int},
                        pk="id", not_null={"role", "token_hash"}, defaults={"revoked": 0}, if_not_exists=True)
    db["tokens"].create_index(["token_hash"], unique=True, if_not_exists=True)
    db["entries"].create({
        "id": int, "text": str, "summary": str, "category": str, "category_name": str, "secondary": str,
        "owner": str, "co_owners": str, "urgent": int, "deadline": str, "received_at": str, "created": str,
        "updated": str, "status": str, "location": str, "speakers": str, "quotes": str, "response": str,
        "confidence": float, "needs_review": int, "model_version": str, "source": str, "corrected": int,
        "satisfaction": int, "feedback": str, "address": str, "notes": str, "margin": float,
    }, pk="id", not_null={"text", "category", "status"}, defaults={"corrected": 0, "urgent": 0, "needs_review": 0},
        if_not_exists=True)
    for cols in (["status"], ["category"], ["owner"], ["received_at"], ["deadline"]):
        db["entries"].create_index(cols, if_not_exists=True)
    db["history"].create({"id": int, "entry_id": int, "at": str, "who": str, "field": str, "from_value": str,
                          "to_value": str, "note": str}, pk="id", foreign_keys=[("entry_id", "entries", "id")],
                         if_not_exists=True)
    db["history"].create_index(["entry_id"], if_not_exists=True)
    db["corrections"].create({"id": int, "entry_id": int, "text": str, "old_category": str, "new_category": str,
                              "old_owner": str, "new_owner": str, "who": str, "at": str}, pk="id", if_not_exists=True)
    db["jobs"].create({"id": str, "status": str, "total": int, "done": int, "review": int, "created": str,
                       "finished": str, "error": str, "input_name": str, "output_path": str, "output_name": str,
                       "who": str, "saved": int}, pk="id", if_not_exists=True)


def _migrate_2(db: sqlite_utils.Database) -> None:
    db["models"].create({"version": str, "created": str, "status": str, "path": str, "card": str, "reason": str,
                         "activated": str}, pk="version", if_not_exists=True)


def _migrate_3(db: sqlite_utils.Database) -> None:
    # text_key: the text without punctuation or spacing, for "already in the ledger"; ref: the 12345
    # ticket number; contact: the caller, for 回访. Jobs keep their outcome apart from their error.
    for column in ("text_key", "ref", "contact"):
        if column not in db["entries"].columns_dict:
            db["entries"].add_column(column, str)
    _recompute(db, "text_key", text_key)
    db["entries"].create_index(["text_key"], if_not_exists=True)
    db["entries"].create_index(["ref"], if_not_exists=True)
    for column, kind in (("result", str), ("saved_new", int), ("saved_already", int)):
        if column not in db["jobs"].columns_dict:
            db["jobs"].add_column(column, kind)


def _migrate_4(db: sqlite_utils.Database) -> None:
    # what the reader skipped or guessed on an upload (title rows, 合计 rows, the column it took),
    # kept so a later poll of the job still shows it
    if "notes" not in db["jobs"].columns_dict:
        db["jobs"].add_column("notes", str)


def _migrate_5(db: sqlite_utils.Database) -> None:
    # a problem reported again (another 12345 ticket number, or raised again on another day) is kept
    # as a repeat of the open entry, so its ticket number is found and the 催办 is visible
    db["repeats"].create({"id": int, "entry_id": int, "ref": str, "contact": str, "day": str, "at": str,
                          "source": str}, pk="id", foreign_keys=[("entry_id", "entries", "id")], if_not_exists=True)
    db["repeats"].create_index(["entry_id"], if_not_exists=True)
    db["repeats"].create_index(["ref"], if_not_exists=True)


def _migrate_6(db: sqlite_utils.Database) -> None:
    # text_key now also leaves out "来电人再次反映" and "又": recompute it for the rows already there
    _recompute(db, "text_key", text_key)


def _recompute(db: sqlite_utils.Database, column: str, of) -> None:
    """Compute every entry's derived `column` afresh from its text (after `of` itself changed)."""
    for row in list(db.query("SELECT id, text FROM entries")):
        db["entries"].update(row["id"], {column: of(row["text"])})


def _migrate_7(db: sqlite_utils.Database) -> None:
    # an upload counts the tickets that joined an open entry as repeat calls apart from those already there;
    # place_key: every place an entry names, indexed, to find a repeat told in other words quickly
    if "saved_repeat" not in db["jobs"].columns_dict:
        db["jobs"].add_column("saved_repeat", int)
    if "received_at" not in db["repeats"].columns_dict:  # when a repeat call came in, for the month it counts in
        db["repeats"].add_column("received_at", str)
    if "place_key" not in db["entries"].columns_dict:
        db["entries"].add_column("place_key", str)
    _recompute(db, "place_key", place_key)
    db["entries"].create_index(["place_key", "category"], if_not_exists=True)


def _migrate_8(db: sqlite_utils.Database) -> None:
    # an upload also says how many new entries look like an open one (疑似重复, flagged for a person)
    if "saved_alike" not in db["jobs"].columns_dict:
        db["jobs"].add_column("saved_alike", int)
    _recompute(db, "place_key", place_key)  # places are read better now (丰和苑)


def _migrate_9(db: sqlite_utils.Database) -> None:
    # place_key leaves the estate out when a building or gate is named: a ticket's "幸福里小区9号楼" is the notes' "9号楼"
    _recompute(db, "place_key", place_key)


def _migrate_10(db: sqlite_utils.Database) -> None:
    # an upload of an office's old 问题台账 says how many rows kept the state the ledger gave them (办结, 回访)
    if "saved_past" not in db["jobs"].columns_dict:
        db["jobs"].add_column("saved_past", int)
    _recompute(db, "place_key", place_key)  # estates named without 小区 (碧桂园5号楼) are places now


def _migrate_11(db: sqlite_utils.Database) -> None:
    # an updated old 问题台账 uploaded again says how many entries it moved on (办结, 回访 since the last upload)
    if "saved_advanced" not in db["jobs"].columns_dict:
        db["jobs"].add_column("saved_advanced", int)


def _migrate_12(db: sqlite_utils.Database) -> None:
    # the upload an entry came from, so a wrong file can be taken back (撤销导入) as a whole
    if "job_id" not in db["entries"].columns_dict:
        db["entries"].add_column("job_id", str)
    db["entries"].create_index(["job_id"], if_not_exists=True)
    if "undone" not in db["jobs"].columns_dict:
        db["jobs"].add_column("undone", str)


def _migrate_13(db: sqlite_utils.Database) -> None:
    # a repeat call recorded by an upload, so taking the upload back (撤销导入) takes its repeats back too
    if "job_id" not in db["repeats"].columns_dict:
        db["repeats"].add_column("job_id", str)


def _migrate_14(db: sqlite_utils.Database) -> None:
    # the 社区 a ticket belongs to (a 街道's desk receives several communities' tickets in one export)
    if "community" not in db["entries"].columns_dict:
        db["entries"].add_column("community", str)
    db["entries"].create_index(["community"], if_not_exists=True)


def _migrate_15(db: sqlite_utils.Database) -> None:
    # the 社区 a token's holder works in (a grid worker's notes name "12栋", never the community)
    if "community" not in db["tokens"].columns_dict:
        db["tokens"].add_column("community", str)


def _migrate_16(db: sqlite_utils.Database) -> None:
    # the correction memory looks up handovers (history.field = 'owner') every few seconds
    db["history"].create_index(["field"], if_not_exists=True)


MIGRATIONS = {1: _migrate_1, 2: _migrate_2, 3: _migrate_3, 4: _migrate_4, 5: _migrate_5, 6: _migrate_6, 7: _migrate_7,
              8: _migrate_8, 9: _migrate_9, 10: _migrate_10, 11: _migrate_11, 12: _migrate_12,
              13: _migrate_13, 14: _migrate_14, 15: _migrate_15, 16: _migrate_16}


NUMERALS = "0123456789零一二三四五六七八九十"  # a search term starting with one of these must match whole


def has_term(text: str | None, term: str | None) -> int:
    """1 when `term` occurs in `text` as a whole number: "2号楼" is in "住2号楼" but not in "12号楼"."""
    if not text or not term:
        return 0
    start = text.find(term)
    while start >= 0:
        before = text[start - 1] if start else ""
        if not (term[0] in NUMERALS and before and before in NUMERALS):
            return 1
        start = text.find(term, start + 1)
    return 0


# Where an entry came from, as staff say it (stored in `source` as the code)
SOURCE_NAMES = {"extract": "纪要", "classify": "单条登记", "tag": "工单批量导入", "open311": "Open311", "ledger": "原台账导入"}

# How a repeat is told, not what it is about: a hotline operator's "来电人再次反映：" and "又"/"再次"
_TELLING = re.compile(r"^(?:市民|来电人|来电市民|来电者|群众|居民|业主)?(?:再次|又|多次|第[二三四五六七八九十\d]次)?(?:来电)?"
                      r"(?:反映|反应|投诉|求助|表示|称)?|再次|又一次|多次|又")


# A caller saying the problem is still there: a repeat call in new words ("还是没有修好，已经打过12345")
_STILL = re.compile(r"再次|又一次|还是没|仍然没|仍未|依然没|至今没|至今未|还没有?(?:修|解决|处理|人管)|已经打过|打过12345|多次反映"
                    r"|多次来电|上次反映|之前反映|之前打过|反映过|催办"
                    # a walk log's re-check that finds it still there: "复查5栋2单元楼道，沙发还在"
                    r"|复查[^。]{0,24}(?:还在|仍在|仍有|还有|依旧|依然|未清|没清|没修|未修)")
SIMILAR = 0.6  # overlap of what is said around the place (character pairs) that makes two texts one problem
# Numbers that say where (502室, 5楼, 15号, 二楼): two texts naming different ones are about different spots
_SPOT = re.compile(r"(\d+|[一二三四五六七八九十]{1,3})\s*(室|楼|层|号|户|单元|栋|幢|座)")


_ESTATE_KEY = re.compile(r"(?:小区|花园|家园|新村|公寓|苑|社区|大院|园|城|里|庭|府|湾|郡|邸|居|阁|轩|坊|院|庄|村|岸|汇|荟|墅|公馆)$")


def _place_set(text: str | None) -> set[str]:
    return place_keys(find_places(normalize(text or "")))


def place_key(text: str | None) -> str:
    """Every place a text names (building, gate, road), as one comparable key; "" when none.

    The estate is left out when something more precise is named: a 12345 ticket says "幸福里小区9号楼" where
    the community's own notes say "9号楼". `_estates` keeps two estates' 9号楼 apart.
    """
    keys = _place_set(text)
    return "|".join(sorted({k for k in keys if not _ESTATE_KEY.search(k)} or keys))


def _estates(text: str | None, location: str | None = None) -> set[str]:
    """The estates a text names, with its 地点 (a ticket's 诉求地址 may name the estate its words do not)."""
    return {k for k in _place_set(f"{text or ''} {location or ''}" if location else text) if _ESTATE_KEY.search(k)}


def like_escape(text: str) -> str:
    """A text as a literal inside a LIKE pattern (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _spots(text: str) -> frozenset[str]:
    # 6号楼, 6栋, 6幢 and 六号楼 are one building: "6号楼2单元电梯" and "6栋2单元电梯" name the same spot (物业 trial)
    plain = _BUILDING.sub(lambda m: f"{cn_number(m.group(1)) or m.group(1)}栋", normalize(text or ""))
    return frozenset(m.group(1) + m.group(2) for m in _SPOT.finditer(plain))


_BUILDING = re.compile(r"(\d+|[一二两三四五六七八九十]{1,3})\s*(?:号住宅楼|号楼|栋|幢|座)")


def _bare(text: str | None) -> str:
    """The text without its places and numbers: what is said about the place."""
    plain = normalize(text or "")
    for place in find_places(plain):
        plain = plain.replace(place, "")
    return re.sub(r"\d+", "", text_key(plain))


def _bigrams(key: str) -> frozenset[str]:
    return frozenset(key[i:i + 2] for i in range(len(key) - 1))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _what(text: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(character pairs, object words, spots) of what a text says about its place."""
    from triage.notes import _things, _topic

    bare = _bare(text)
    return _bigrams(bare), frozenset(_things(_topic(bare))), _spots(text)


def _visit_steps(past: dict, told: str) -> list[tuple[str, str]]:
    """The status moves an old ledger's 回访 makes, with their notes: 已回访 (and 已销号 when the ledger says so),
    or back to 办理中 when the resident was unhappy (≤ 2), as on the page."""
    score, feedback = past["satisfaction"], past["feedback"]
    if score < 3:
        return [("办理中", f"{told}回访：{feedback}（{score} 分），重新办理")]
    return [("已回访", f"{told}回访：{feedback}（{score} 分）")] + ([("已销号", f"{told}销号")] if past["status"] == "已销号" else [])


def _topic_words(text: str) -> set[str]:
    """The words a text says about its place, without the place words themselves (楼道, 单元, 门口)."""
    from triage.notes import _topic

    return {w for w in _topic(_bare(text)) if len(w) >= 2} - _NOT_TOPIC


# place, time and who words: "有人天天乱扔垃圾" and "有人天天烧纸" share 有人 and 天天, not a problem
_NOT_TOPIC = {"楼道", "单元", "门口", "小区", "楼下", "楼上", "复查", "还在", "有人", "天天", "每天", "晚上", "白天", "早上",
              "夜里", "半夜", "一直", "经常", "总是", "老是", "现在", "今天", "昨天", "居民", "业主", "再次", "反映", "投诉",
              "之前", "上次", "还是", "没有", "解决", "来电", "来电人", "打过",
              # where, said loosely (a 12345 desk saw 焚烧垃圾 and 河道漂垃圾 flagged as alike on 附近 + 垃圾)
              "附近", "周边", "周围", "旁边", "后面", "前面", "对面", "里面", "外面", "希望", "部门"}


def _thing_chars(things: frozenset[str]) -> set[str]:
    from triage.notes import _PLACE_CHARS, _thing_chars as chars

    return chars(set(things)) - _PLACE_CHARS


def _shared_words(a: frozenset[str], b: frozenset[str]) -> bool:
    from triage.notes import _shared

    return bool(_shared(set(a), set(b)))


def _community_of(db: sqlite_utils.Database, entry: dict) -> str | None:
    """The 社区 of the estate an entry names, when uploaded tickets tie that estate to exactly one."""
    found: set[str] = set()
    for estate in _estates(entry.get("text"), entry.get("location")):
        like = "%" + like_escape(estate) + "%"
        found |= {r["community"] for r in db.query(
            "SELECT DISTINCT community FROM entries WHERE community IS NOT NULL AND community != '' AND "
            "(location LIKE ? ESCAPE '\\' OR text LIKE ? ESCAPE '\\') LIMIT 3", [like, like])}
    return found.pop() if len(found) == 1 else None


def _repeat_of(db: sqlite_utils.Database, entry: dict) -> tuple[int | None, int | None]:
    """An open entry this one repeats in other words: (id to join, id that looks alike for staff to judge).

    Only an open entry of the same category naming exactly the same places (building, gate, road:
    `place_key`, indexed; the estate when both name one; when only one names it, the texts are only
    flagged as alike) is compared, and none naming another room, floor or house number. It is the
    same problem when it is said in nearly the same words (SIMILAR), or when the new text says it is a repeat
    ("还是没有修好") and names the same object (电梯, 路灯) or comes from the same caller (phone number). An urgent report never disappears into an
    entry that is not urgent: it is entered and flagged instead, like the same object said without
    repeat words.
    """
    where = entry.get("place_key")
    if not where:
        return None, None  # no place named: nothing to tell two reports apart by
    rows = list(db.query(f"SELECT id, text, urgent, location, contact FROM entries WHERE place_key = ? AND category = ? AND status NOT IN "
                         f"({', '.join('?' * len(CLOSED))}) ORDER BY id LIMIT 50",
                         [where, entry.get("category") or "", *CLOSED]))
    if not rows:
        return None, None
    grams, things, spots = _what(entry.get("text") or "")
    told = bool(_STILL.search(normalize(entry.get("text") or "")))
    # the estate may be in the ticket's 诉求地址 (kept as its 地点), not in its words
    estates = _estates(entry.get("text"), entry.get("location"))
    phones = set(re.findall(r"\d{7,}", entry.get("contact") or ""))
    topic = _topic_words(entry.get("text") or "")
    alike = None
    for row in rows:
        their_grams, their_things, their_spots = _what(row["text"])
        if spots != their_spots and not (spots < their_spots or their_spots < spots):
            continue  # 3号楼502室 and 3号楼301室, 和平路15号 and 和平路88号 ("三楼到五楼" and "三到五楼" say less, not other)
        theirs = _estates(row["text"], row["location"])
        if estates and theirs and not estates & theirs:
            continue  # 幸福里小区9号楼 and 阳光小区9号楼
        # the same caller (phone number) saying it is a repeat, at the same place, of the same kind: "来电人再次反映…
        # 东门消防通道还是被车堵着" after their own "东门口的消防通道被私家车长期占用"
        caller = bool(phones and phones & set(re.findall(r"\d{7,}", row["contact"] or "")))
        akin = caller and bool(_thing_chars(things) & _thing_chars(their_things))  # 私家车 and 车, not 电梯 and 灯
        # a re-check or a repeat naming what was there: "复查5栋2单元楼道，沙发还在" after "…楼道堆了旧沙发和纸箱"
        # (only a re-check: a repeat told in other words, 飞线充电 after 充电, is flagged for a person instead)
        # what is said about the place, word by word: 广场舞 and 音响 (no object word of `_things` among them)
        shared = topic & _topic_words(row["text"])
        named = told and "复查" in (entry.get("text") or "") and bool(shared)
        words = len(shared)
        same = _overlap(grams, their_grams) >= SIMILAR or (told and (things & their_things or akin or named or words >= 2))
        # "幸福里小区9号楼…" (a ticket) and "9号楼…" (the notes) may be one problem, or another estate's 9号楼
        # where the community has several: a person decides
        sure = bool(estates) == bool(theirs)
        if same and sure and not (entry.get("urgent") and not row["urgent"]):
            return row["id"], None
        # alike enough for a person to look: one object word inside the other (飞线充电 and 充电) is flagged, not joined
        if alike is None and (same or things & their_things or _shared_words(things, their_things) or words >= 2):
            alike = row["id"]
    return None, alike


def text_key(text: str | None) -> str:
    """What makes two ledger texts "the same": normalised (简体, NFKC) without punctuation, spaces, or
    the words that only say it is reported again ("来电人再次反映：3栋电梯又坏了" = "3栋电梯坏了")."""
    return _NOT_WORD.sub("", _TELLING.sub("", normalize(text or ""))).lower()


class Store:
    """A connection to the ledger database."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0):
        self.path = str(path)
        fresh = self.path != ":memory:" and not os.path.exists(self.path)
        conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        if fresh:  # residents' words, phone numbers and token hashes: for the service's own user only
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        # In WAL mode NORMAL still never corrupts the database; a power cut may lose the last commits.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.create_function("has_term", 2, has_term, deterministic=True)
        self.db = sqlite_utils.Database(conn)

    def close(self) -> None:
        """Close the connection."""
        self.db.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction that takes the write lock up front (no upgrade deadlocks)."""
        conn = self.db.conn
        if conn.in_transaction:  # nested: the outer transaction commits or rolls back
            yield self.db
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # -- schema -----------------------------------------------------------------------------
    def migrate(self) -> int:
        """Create or upgrade the schema; returns the schema version. Safe to run on every start."""
        self.db.conn.execute("PRAGMA journal_mode = WAL")
        with self.write() as db:
            db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
            row = next(db.query("SELECT value FROM meta WHERE key = ?", ["schema_version"]), None)
            version = int(row["value"]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(f"数据库版本 {version} 比程序支持的 {SCHEMA_VERSION} 新，请升级程序。")
            for v in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[v](db)
            db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")
        return SCHEMA_VERSION

    # -- tokens -----------------------------------------------------------------------------
    def create_token(self, role: str, name: str = "", community: str = "") -> str:
        """Create an API token; returns the plain token (only its hash is kept)."""
        return self.new_token(role, name, community)[1]

    def new_token(self, role: str, name: str = "", community: str = "") -> tuple[int, str]:
        """Create an API token; returns (its id, for revoking, and the plain token).

        `community`: the 社区 its holder works in; what they enter without one is filed under it."""
        if role not in ROLES:
            raise StoreError(f"未知角色 {role!r}，可用：{', '.join(ROLES)}")
        community = (community or "").strip()
        if len(community) > 40:
            raise StoreError("社区名称太长（最多 40 字）。")
        token = "tri_" + secrets.token_urlsafe(24)
        with self.write() as db:
            token_id = db["tokens"].insert({"name": name, "role": role, "token_hash": hash_token(token),
                                            "created": _now(), "revoked": 0, "community": community or None}).last_pk
        return token_id, token

    def revoke_token(self, token_id: int) -> dict:
        """Stop a token (kept, marked revoked, so the list still shows who had it)."""
        with self.write() as db:
            row = next(db.query("SELECT id, name, role, revoked FROM tokens WHERE id = ?", [token_id]), None)
            if row is None:
                raise StoreError(f"找不到编号为 {token_id} 的令牌。", 404)
            if row["revoked"]:
                raise StoreError(f"令牌 {token_id}（{row['name'] or row['role']}）已经停用过了。", 409)
            admins = next(db.query("SELECT count(*) AS n FROM tokens WHERE role = 'admin' AND revoked = 0"))["n"]
            if row["role"] == "admin" and admins <= 1:  # an admin trial revoked every admin token, its own too
                raise StoreError("这是最后一个有效的管理员令牌，停用后就没有人能管理系统了。"
                                 "请先用 triage token create --role admin 建一个新的，再停用它。", 409)
            db.execute("UPDATE tokens SET revoked = 1 WHERE id = ?", [token_id])
        return {**row, "revoked": True}

    def tokens(self) -> list[dict]:
        """Every token without its secret: id, name, role, created, revoked."""
        return [{**r, "revoked": bool(r["revoked"])}
                for r in self.db.query("SELECT id, name, role, community, created, revoked FROM tokens ORDER BY id")]

    def token_role(self, token: str) -> tuple[str, str, str | None] | None:
        """(role, name, community) for a valid token, else None."""
        row = next(self.db.query("SELECT role, name, community FROM tokens WHERE token_hash = ? AND revoked = 0",
                                 [hash_token(token)]), None)
        return (row["role"], row["name"] or row["role"], row["community"] or None) if row else None

    # -- entries ----------------------------------------------------------------------------
    @staticmethod
    def _encode(entry: dict) -> dict:
        out = dict(entry)
        for key in JSON_FIELDS:
            if key in out and not isinstance(out[key], str):
                out[key] = json.dumps(list(out[key] or []), ensure_ascii=False)
        for key in ("urgent", "needs_review", "corrected"):
            if key in out:
                out[key] = int(bool(out[key]))
        return out

    @staticmethod
    def decode(row: dict) -> dict:
        """A database row as API-ready values (lists and booleans restored)."""
        out = dict(row)
        for key in JSON_FIELDS:
            value = out.get(key)
            try:
                out[key] = json.loads(value) if value else []
            except (TypeError, ValueError):  # a value edited by hand in the database: shown as no list
                out[key] = []
        for key in ("urgent", "needs_review", "corrected"):
            out[key] = bool(out.get(key))
        return out

    def add_entries(self, entries: list[dict], who: str, *, reused: set[int] | None = None,
                    repeated: list[int] | None = None, alike: list[int] | None = None,
                    advanced: list[int] | None = None, zone: str = "Asia/Shanghai",
                    job_id: str | None = None, community: str | None = None,
                    may_close: bool = True) -> list[int | None]:
        """Insert ledger entries (status 待派单) in one transaction; returns their ids (None for a row an
        uploaded ledger marks 已作废: it is not entered).

        Nothing is entered twice, on any path (notes, single messages, uploads, Open311): an entry whose
        ticket number (`ref`) is already in the ledger, or whose text (punctuation aside) is there still
        open, voided, or received the same day (the same meeting saved again), keeps its existing id,
        which is added to `reused` when given. So does a repeat told in new words (`_repeat_of`); a
        likeness too weak to join on is entered, flagged for review with the entry it resembles, and its
        new id appended to `alike`. An old ledger's row uploaded again (the same report) moves its entry on
        when the ledger is further along now (`_advance`); such ids go to `advanced`. Each repeat recorded (a new ticket number, another day) appends its
        entry's id to `repeated`. A closed entry raised again on a later day is a new report: the problem
        came back. `community` is the 社区 of an entry that names none (the writer's: `Caller.community`).
        Without `may_close` (TRIAGE_CLOSE_ROLE above the uploader's role) an old ledger's 已销号 stops at 已回访.
        """
        reused = set() if reused is None else reused
        repeated = [] if repeated is None else repeated
        alike = [] if alike is None else alike
        advanced = [] if advanced is None else advanced
        now = _now()
        ids = []
        made: set[int] = set()  # entered by this call: a later row of the same batch joining one is not "already"
        with self.write() as db:
            for entry in entries:
                key = text_key(entry["text"])
                past = entry.get("past")  # an old ledger's row: what became of it (jobs._as_kept)
                own, void = entry.get("own"), entry.get("void")
                entry = {k: v for k, v in entry.items() if k not in ("past", "own", "void")}
                if own is not None and self._is_own_row(db, own, key):
                    # this ledger's own export, filled in elsewhere and uploaded back: that entry, moved on
                    # (never backwards, never revived, never a repeat of itself)
                    if not void and self._update_from_export(db, own, past, entry.get("response"), who,
                                                             entry.get("notes") or [], may_close):
                        advanced.append(own)
                    ids.append(own)
                    reused.add(own)
                    continue
                if void:
                    ids.append(None)  # a row that ledger voided is not entered (None keeps rows and ids in step)
                    continue
                from_address = bool(entry.pop("address", None))  # the 地点 came from the ticket's 诉求地址
                # the words' own places when they name one (as the meeting notes would); else the 诉求地址
                entry["place_key"] = place_key(entry["text"]) or (place_key(entry.get("location")) if from_address else "")
                where = ({"estates": _estates(entry["text"], entry.get("location")),
                          "community": entry.get("community")} if from_address else None)
                existing = self._same(db, entry.get("ref"), key, entry.get("received_at"), where)
                report = bool(past) and existing is not None and self._same_report(db, existing, entry)
                if existing is not None and past and past["closed"] and not report:
                    existing = None  # an old ledger's closed problem is its own record, not a repeat of an open one
                resembles, worded = None, False
                if existing is None and not (past and past["closed"]):  # a closed old problem repeats nothing
                    existing, resembles = _repeat_of(db, entry)
                    worded = existing is not None  # told in other words: its text is kept with the repeat
                    report = bool(past) and worded and self._same_report(db, existing, entry)
                if report:
                    # the office's ledger uploaded again after it was updated: what it says now moves the entry on
                    if self._advance(db, existing, past, entry.get("response"), who, may_close):
                        advanced.append(existing)
                if existing is not None:
                    if self._repeat(db, existing, entry, who, now, zone, worded, job_id):
                        repeated.append(existing)
                    ids.append(existing)
                    if existing not in made:
                        reused.add(existing)
                    continue
                if not entry.get("community"):  # a note naming an estate the tickets already tied to one 社区,
                    entry["community"] = _community_of(db, entry) or community  # else where its writer works
                if resembles is not None:  # close, but not close enough to join without a person looking
                    entry = {**entry, "needs_review": True,
                             "notes": [*(entry.get("notes") or []), f"疑似重复：与台账第 {resembles} 条相近（同一地点、同一类别），请核对"]}
                row = self._encode({**entry, "text_key": key, "status": "待派单", "created": now, "updated": now,
                                    "corrected": 0, **({"job_id": job_id} if job_id else {})})
                row.pop("id", None)
                new_id = db["entries"].insert(row).last_pk
                made.add(new_id)
                if resembles is not None:
                    alike.append(new_id)
                db["history"].insert({"entry_id": new_id, "at": now, "who": who, "field": "status", "from_value": None,
                                      "to_value": "待派单",
                                      "note": f"录入（来源：{SOURCE_NAMES.get(entry.get('source'), entry.get('source') or '')}）"})
                if past and past["status"] != "待派单":
                    self._record_past(db, new_id, past, who, now, may_close)
                ids.append(new_id)
        return ids

    @staticmethod
    def _record_past(db: sqlite_utils.Database, entry_id: int, past: dict, who: str, now: str,
                     may_close: bool = True) -> None:
        """Give an imported row the state the old ledger records: closed (on its 办结日期), visited, 销号.

        The 办理记录 says it came from the old ledger. A closing date the ledger does not give is not made
        up: the row is closed without a 办结 time, so it does not count towards the 按时办结率.
        """
        at = past["closed_at"] or now
        steps = [("已办结", past["note"])] if past["closed"] else [(past["status"], past["note"])]
        if past["closed"] and past["satisfaction"] is not None:
            steps += _visit_steps(past, "按原台账")
        status = past["status"]
        if not may_close and status == "已销号":  # 销号 is kept for administrators
            steps = [x for x in steps if x[0] != "已销号"]
            status = steps[-1][0] if steps else "已办结"
        before = "待派单"
        for status, note in steps:
            # a status change the history can date counts as one; an undated 办结 is only noted
            field = "status" if past["closed_at"] or not past["closed"] else "import"
            db["history"].insert({"entry_id": entry_id, "at": at, "who": who, "field": field, "from_value": before,
                                  "to_value": status, "note": note})
            before = status
        changes = {"status": status, "updated": now}
        if past["satisfaction"] is not None:
            changes.update(satisfaction=past["satisfaction"], feedback=past["feedback"])
        db["entries"].update(entry_id, changes)

    def _advance(self, db: sqlite_utils.Database, entry_id: int, past: dict, response: str | None, who: str,
                 may_close: bool = True) -> bool:
        """An old ledger's row, uploaded again: take what it says now when that is further along (办结, 回访, 销号).

        Only forward: a state the ledger is behind on (staff moved the entry on here) is left, and so are voided
        and 销号 entries, an entry visited here, and a 回访 already taken (an unhappy one reopened the entry, which
        stays open until the ledger records another). The 办结
        is dated by the ledger's 办结日期, as on the first import (without one it does not count towards the
        按时办结率). The ledger's 办理情况 is taken when it closes the entry or the entry had none.
        True when anything moved.
        """
        current = self.get_entry(entry_id)
        status, score = current["status"], past["satisfaction"]
        if status in FINAL:
            return False
        if past["closed"] and current.get("satisfaction") is not None and (
                score is None or (score, past["feedback"]) == (current["satisfaction"], current.get("feedback"))):
            return False  # visited here already, or this very 回访 was taken (an unhappy one reopened the entry)
        now = _later_than(current["updated"])
        changes: dict[str, Any] = {}
        steps: list[tuple[str, str, str]] = []  # (status, note, history field)
        if past["closed"] and status not in DONE:
            steps.append(("已办结", f"按更新后的原台账：{past['note'].removeprefix('按原台账：')}",
                          "status" if past["closed_at"] else "import"))
        elif not past["closed"] and _RANK.get(past["status"], 0) > _RANK.get(status, 0):
            steps.append((past["status"], f"按更新后的原台账：{past['note'].removeprefix('按原台账：')}", "status"))
        if past["closed"] and score is not None and (steps[-1][0] if steps else status) == "已办结":
            changes.update(satisfaction=score, feedback=past["feedback"])
            steps += [(to, note, "status") for to, note in _visit_steps(past, "按更新后的原台账")
                      if to != "已销号" or may_close]  # 销号 may be kept for administrators
        if not steps:
            return False
        said = (response or "").strip()
        if said and said != (current.get("response") or "").strip() and (
                not (current.get("response") or "").strip() or steps[0][0] == "已办结"):
            changes["response"] = said
            db["history"].insert({"entry_id": entry_id, "at": now, "who": who, "field": "response",
                                  "from_value": current.get("response"), "to_value": said, "note": "按更新后的原台账"})
        before = status
        for to, note, field in steps:
            # dated as the ledger dates them (the 回访 on its 办结日期, as on the first import), else now
            at = past["closed_at"] if past["closed"] and past["closed_at"] else now
            db["history"].insert({"entry_id": entry_id, "at": at, "who": who, "field": field, "from_value": before,
                                  "to_value": to, "note": note})
            before = to
        db["entries"].update(entry_id, {**changes, "status": before, "updated": now})
        return True

    @staticmethod
    def _is_own_row(db: sqlite_utils.Database, entry_id: int, key: str) -> bool:
        """Row 台账编号 N of an exported ledger is entry N when its 问题内容 is that entry's words (a summary of
        them, or the whole text); another office's 编号 column is only a row number."""
        have = next(db.query("SELECT text, summary FROM entries WHERE id = ?", [entry_id]), None)
        if have is None or not key:
            return False
        # a few words ("漏水") could be anyone's: a part must be long enough to be that entry's own
        return any(text_key(x or "") == key or (len(key) >= 8 and key in text_key(x or ""))
                   for x in (have["text"], (have["summary"] or "").rstrip("…")))

    def _update_from_export(self, db: sqlite_utils.Database, entry_id: int, past: dict | None, response: str | None,
                            who: str, notes: list[str] = (), may_close: bool = True) -> bool:
        """Our export uploaded back: take a new 办理情况, and a state further along that the entry never reached
        (an entry reopened here, by an administrator or an unhappy 回访, is not closed again by the old file)."""
        current = self.get_entry(entry_id)
        if current["status"] in FINAL:
            return False
        history = self.history(entry_id)
        reached = {h["to_value"] for h in history if h["field"] in ("status", "import")}
        said = (response or "").strip()
        # what a person must look at: a closing with no result, a 办结日期 before the problem or after today
        flags = [n for n in notes if "办结日期" in n]
        if past and past["closed"] and current["status"] not in DONE and not said and not (current.get("response") or "").strip():
            flags.append("上传的台账标为已办结，但没有写办理情况，未改状态，请补充办理结果")
            past = None
        if flags:  # notes, not a change of the 办理记录
            kept = current.get("notes") or []
            db["entries"].update(entry_id, {**self._encode({"needs_review": True, "notes": [*kept, *(f for f in flags if f not in kept)]}),
                                            "updated": _later_than(current["updated"])})
        if not past:
            moved = bool(flags)
        elif past["closed"] and current["status"] in DONE:
            moved = self._advance(db, entry_id, past, response, who, may_close)  # closed here: the file may add its 回访
        else:  # a state the entry already went through and came back from (reopened since) is not taken again
            moved = (("已办结" if past["closed"] else past["status"]) not in reached
                     and self._advance(db, entry_id, past, response, who, may_close))
        # a 办理情况 the entry had before is the old file's, not news: a newer one typed here stands
        stale = any(h["field"] == "response" and said in ((h["from_value"] or "").strip(), (h["to_value"] or "").strip())
                    for h in history)
        if moved or not said or stale or said == (current.get("response") or "").strip():
            return moved
        self.update_entry(entry_id, {"response": said}, who, "按上传的台账（本系统导出后填写）")
        return True

    @staticmethod
    def _same_report(db: sqlite_utils.Database, entry_id: int, entry: dict) -> bool:
        """The same ticket number, or received the same day: the same report brought in again."""
        have = next(db.query("SELECT ref, received_at FROM entries WHERE id = ?", [entry_id]))
        return bool(entry.get("ref") and entry["ref"] == have["ref"]) or (
            (entry.get("received_at") or "")[:10] == (have["received_at"] or "")[:10])

    @staticmethod
    def _repeat(db: sqlite_utils.Database, entry_id: int, entry: dict, who: str, now: str,
                zone: str = "Asia/Shanghai", worded: bool = False, job_id: str | None = None) -> bool:
        """Record a repeat report of an entry: a new ticket number, or the problem raised on another day.

        The same ticket or the same meeting saved again is not a repeat (False). A repeat told in other words
        (`worded`) is recorded even on the same day, with its text: it would otherwise be lost.
        """
        have = next(db.query("SELECT ref, received_at FROM entries WHERE id = ?", [entry_id]))
        ref, day = entry.get("ref"), (entry.get("received_at") or now)[:10]
        # when the call came in, as the file gives it (the history's own time is when it was recorded)
        # (a call for a ticket; a meeting or a walk is not one: "再次反映（纪要，2026-11-24 19:00）")
        heard = "来电 " if entry.get("ref") or entry.get("source") in ("tag", "open311") else ""
        called = f"，{heard}{_local_minute(entry['received_at'], zone)}" if entry.get("received_at") else ""
        said = f"：{entry['text'].strip()[:200]}" if worded and (entry.get("text") or "").strip() else ""
        if ref:
            if ref == have["ref"] or next(db.query("SELECT 1 FROM repeats WHERE ref = ?", [ref]), None):
                return False
            what = f"重复来电：工单 {ref}" + (f"（来电人 {entry['contact']}{called}）" if entry.get("contact")
                                              else f"（{called[1:]}）" if called else "") + said
        else:
            if not worded and (day == (have["received_at"] or "")[:10] or next(db.query(
                    "SELECT 1 FROM repeats WHERE entry_id = ? AND day = ? AND ref IS NULL", [entry_id, day]), None)):
                return False
            what = f"再次反映（{SOURCE_NAMES.get(entry.get('source'), entry.get('source') or '录入')}{called}）{said}"
            if worded and next(db.query("SELECT 1 FROM history WHERE entry_id = ? AND field = 'repeat' AND note = ?",
                                        [entry_id, what]), None):
                return False  # the same file uploaded again: this repeat is recorded already
        db["repeats"].insert({"entry_id": entry_id, "ref": ref, "contact": entry.get("contact"), "day": day, "at": now,
                              "source": entry.get("source"), "received_at": entry.get("received_at") or now,
                              **({"job_id": job_id} if job_id else {})})
        db["history"].insert({"entry_id": entry_id, "at": now, "who": who, "field": "repeat", "from_value": None,
                              "to_value": ref or day, "note": what})
        return True

    @staticmethod
    def _same(db: sqlite_utils.Database, ref: str | None, key: str, received: str | None,
              where: dict | None = None) -> int | None:
        """The entry this one is already (same ticket, or the same words still open or of the same day).

        `where` ({"estates", "community"}, from a ticket's 诉求地址 and 所属社区): the same words about another
        estate's 8号楼, or from another 社区, are another problem."""
        # a row voided with its whole upload (撤销导入) is as if never entered: the right file brings it in again
        taken_back = ("NOT (status = '已作废' AND job_id IS NOT NULL AND job_id IN "
                      "(SELECT id FROM jobs WHERE undone IS NOT NULL))")
        if ref:
            # a ticket merged into another entry (并入) is that entry's, not the voided row's
            row = next(db.query(f"SELECT id FROM entries WHERE ref = ? AND status != '已作废' UNION ALL "
                                f"SELECT entry_id FROM repeats WHERE ref = ? UNION ALL "
                                f"SELECT id FROM entries WHERE ref = ? AND {taken_back} LIMIT 1", [ref, ref, ref]), None)
            if row is not None:
                return row["id"]
        if not key:
            return None  # a text of punctuation or symbols only is the same as nothing else
        rows = db.query(
            f"SELECT id, text, location, community FROM entries WHERE text_key = ? AND (status NOT IN "
            f"({', '.join('?' * len(DONE))}) OR substr(received_at, 1, 10) = substr(?, 1, 10)) AND {taken_back} "
            f"ORDER BY id LIMIT 20", [key, *DONE, received or ""])
        for row in rows:
            if where:
                theirs = _estates(row["text"], row["location"])
                if where["estates"] and theirs and not where["estates"] & theirs:
                    continue  # 阳光花园小区8号楼 and 幸福里小区8号楼, the same words
                if where["community"] and row["community"] and where["community"] != row["community"]:
                    continue
            return row["id"]
        return None

    def get_entry(self, entry_id: int) -> dict:
        """One entry; StoreError 404 when unknown."""
        row = next(self.db.query("SELECT * FROM entries WHERE id = ?", [entry_id]), None)
        if row is None:
            raise StoreError(f"找不到编号为 {entry_id} 的台账记录。", 404)
        return self.decode(row)

    def history(self, entry_id: int) -> list[dict]:
        """The change history of one entry, oldest first."""
        return list(self.db.query("SELECT * FROM history WHERE entry_id = ? ORDER BY id", [entry_id]))

    def edit_entry(self, entry_id: int, changes: dict[str, Any], who: str, note: str = "",
                   seen: dt.datetime | None = None) -> dict:
        """A staff edit (summary, place, reply, owner): refused once the entry is 已销号 or 已作废."""
        with self.write():
            current = self.get_entry(entry_id)
            self._unchanged_since(current, seen)
            self._editable(current)
            return self.update_entry(entry_id, changes, who, note)

    def _unchanged_since(self, entry: dict, seen: dt.datetime | None) -> None:
        """With `seen` (the entry's `updated` as the caller last read it): 409 if someone changed it since."""
        if seen is None:
            return
        if seen.tzinfo is None:
            seen = seen.replace(tzinfo=dt.timezone.utc)
        if dt.datetime.fromisoformat(entry["updated"]) != seen:
            past = self.history(entry["id"])
            who = f"（{past[-1]['who']} 刚刚改过）" if past and past[-1].get("who") else ""
            raise StoreError(f"这条记录在您打开之后已被修改{who}，请刷新后再改。", 409)

    @staticmethod
    def _editable(entry: dict) -> None:
        if entry["status"] in FINAL:
            raise StoreError(f"这条记录{entry['status']}，已归档，不能再修改。", 409)

    def update_entry(self, entry_id: int, changes: dict[str, Any], who: str, note: str = "") -> dict:
        """Change fields of an entry, recording each change in history."""
        with self.write() as db:
            current = self.get_entry(entry_id)
            now = _later_than(current["updated"])
            encoded = self._encode(changes)
            for key, value in changes.items():
                old = current.get(key)
                if old == value:
                    continue
                db["history"].insert({"entry_id": entry_id, "at": now, "who": who, "field": key,
                                      "from_value": _text(old), "to_value": _text(value), "note": note})
            db["entries"].update(entry_id, {**encoded, "updated": now})
        return self.get_entry(entry_id)

    def set_status(self, entry_id: int, status: str, who: str, note: str = "", satisfaction: int | None = None,
                   feedback: str | None = None, seen: dt.datetime | None = None, admin: bool = False,
                   done_at: dt.datetime | None = None) -> dict:
        """Move an entry along the lifecycle; an unsatisfied 回访 (≤ 2) reopens it.

        已办结 needs a result: the entry's 办理情况, or a note, which then becomes it. Only an
        administrator may reopen a 已销号 entry (REOPEN), and only with a reason.
        """
        if status not in STATUSES:
            raise StoreError(f"未知状态“{status}”，可用：{' → '.join(STATUSES)}")
        note = note.strip()
        with self.write():
            current = self.get_entry(entry_id)
            self._unchanged_since(current, seen)
            old = current["status"]
            changes: dict[str, Any] = {"status": status}
            if status in REOPEN.get(old, ()):
                if not admin:
                    raise StoreError(f"“{old}”的记录只有管理员可以重新打开。", 403)
                if not note:
                    raise StoreError("重新打开需要写明原因（例如：误销号、居民再次反映）。")
                # the problem is back: the old 回访 no longer stands (it stays in the 办理记录)
                changes.update(satisfaction=None, feedback=None)
            elif status not in MOVES[old]:
                allowed = "、".join(MOVES[old]) or "（已销号，不能再变更）"
                why = "销号前要先回访居民，记下满意度。" if status == "已销号" and old == "已办结" else ""
                raise StoreError(f"不能从“{old}”直接改为“{status}”。{why}当前可改为：{allowed}", 409)
            if done_at is not None:  # closed on the day it really was, not when someone got to typing it in
                if status != "已办结":
                    raise StoreError("只有“已办结”可以填写实际办结时间。")
                if done_at > dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5):
                    raise StoreError("实际办结时间不能晚于现在。")
                if current.get("received_at") and done_at < dt.datetime.fromisoformat(current["received_at"]):
                    # say which 受理时间 (a 网格员 trial could not tell what it was checked against)
                    raise StoreError(f"实际办结时间早于这条记录的受理时间（{_local_minute(current['received_at'])}），请核对。")
            if status == "已办结":
                if note:  # the result of this closing (a second one after a reopen replaces the first)
                    changes["response"] = note
                elif not (current.get("response") or "").strip():
                    raise StoreError("办结需要写明办理结果：请先填写办理情况，或在备注中写明怎么解决的。")
            if status == "已回访":
                if satisfaction is None or not 1 <= satisfaction <= 5:
                    raise StoreError("回访需要填写满意度（1–5 分）。")
                changes.update(satisfaction=satisfaction, feedback=feedback or "")
                if satisfaction <= 2:
                    note = (note + "；" if note else "") + f"回访不满意（{satisfaction} 分），重新办理"
                    self.update_entry(entry_id, changes, who, note)
                    changes = {"status": "办理中"}
            elif status == "已销号" and current.get("satisfaction") is None:
                raise StoreError("销号前需要先完成回访。", 409)
            elif status == "已作废" and not note.strip():
                raise StoreError("作废需要写明原因（例如：重复登记、录入错误）。")
            if status in ("已作废", "已销号"):
                changes["needs_review"] = False  # a person looked at it: set aside, or handled, visited and closed
            updated = self.update_entry(entry_id, changes, who, note)
            if done_at is not None:  # the 办结 line of the 办理记录 carries the real time (办结时间, 按时办结率)
                stamp = done_at.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
                self.db.execute("UPDATE history SET at = ? WHERE id = (SELECT max(id) FROM history WHERE entry_id = ? "
                                "AND field = 'status' AND to_value = '已办结')", [stamp, entry_id])
            return updated

    def undo_upload(self, job: dict, who: str) -> dict:
        """撤销导入: void (已作废, never delete) the entries an upload entered, in one transaction.

        An entry someone has worked on since (its status moved, a reply, a correction, a merge) is kept and
        counted, so nothing done by hand is lost; nor are repeats and state changes the upload recorded on
        entries that were there before (they are counted for a person to check). Refused when done already.
        """
        if job.get("undone"):
            raise StoreError(f"这次导入已于 {_local_minute(job['undone'])} 撤销过了。", 409)
        with self.write() as db:
            rows = list(db.query("SELECT id, status, updated, created, response, corrected FROM entries "
                                 "WHERE job_id = ? ORDER BY id", [job["id"]]))
            calls = list(db.query("SELECT id, entry_id, ref, day FROM repeats WHERE job_id = ? ORDER BY id", [job["id"]]))
            if not rows and not calls:
                raise StoreError("这次上传没有新登记条目，也没有记入重复来电，没有可撤销的内容"
                                 + (f"；它按更新后的台账改了 {job['saved_advanced']} 条的办理状态，这些请在台账中逐条核对。"
                                    if job.get("saved_advanced") else "。"), 409)
            voided, kept = [], []
            for row in rows:
                if row["status"] == "已作废":
                    continue
                touched = next(db.query("SELECT 1 FROM history WHERE entry_id = ? AND at > ? LIMIT 1",
                                        [row["id"], row["created"]]), None)
                if touched or row["corrected"]:
                    kept.append(row["id"])
                    continue
                self.update_entry(row["id"], {"status": "已作废"}, who,
                                  f"撤销导入：{job.get('input_name') or '上传的文件'}（整批撤回）")
                voided.append(row["id"])
            now = _now()
            for call in calls:  # the repeat calls it recorded on entries that were there before: taken back, said so
                db["repeats"].delete(call["id"])
                db["history"].insert({"entry_id": call["entry_id"], "at": _later_than(now), "who": who, "field": "repeat_undone",
                                      "from_value": call["ref"] or call["day"], "to_value": None,
                                      "note": f"撤销导入：{job.get('input_name') or '上传的文件'}记入的重复来电"
                                              + (f"（工单 {call['ref']}）" if call["ref"] else f"（{call['day']}）") + "已撤回"})
            db["jobs"].update(job["id"], {"undone": now})
        return {"voided": len(voided), "kept": kept, "repeats": len(calls),
                "repeat_entries": sorted({c["entry_id"] for c in calls}), "advanced": job.get("saved_advanced") or 0}

    @staticmethod
    def _same_problem(current: dict, target: dict) -> None:
        """并入 only what can be one problem: the same category, and no two different places or estates."""
        a, b = current["id"], target["id"]
        if current["category"] != target["category"]:
            raise StoreError(f"编号 {a}（{current.get('category_name') or current['category']}）和编号 {b}"
                             f"（{target.get('category_name') or target['category']}）类别不同。如果确是同一问题，"
                             f"请先把编号 {a} 的类别改为“{target.get('category_name') or target['category']}”，再并入。", 409)
        here, there = _place_set(current["text"]), _place_set(target["text"])
        estates_a, estates_b = _estates(current["text"]), _estates(target["text"])
        spots_a, spots_b = here - estates_a, there - estates_b
        if (estates_a and estates_b and not estates_a & estates_b) or (spots_a and spots_b and not spots_a & spots_b):
            where = lambda keys: "、".join(sorted(keys)) or "未写地点"
            raise StoreError(f"编号 {a}（{where(here)}）和编号 {b}（{where(there)}）地点不同，"
                             "不是同一个问题，不能并入。请核对编号。", 409)

    def merge_entry(self, entry_id: int, into: int, who: str, seen: dt.datetime | None = None,
                    zone: str = "Asia/Shanghai") -> dict:
        """并入: entry `entry_id` is the same problem as `into`, entered twice (a 疑似重复 a person checked).

        In one transaction `into` records it as a repeat report, with its words, ticket number and caller,
        and takes over the repeats it had; `entry_id` is voided (已作废, never deleted) with a note saying
        where it went. Refused for an archived entry, for an entry into itself, and into a problem already
        closed: one raised again after closing is a new report. Returns `into` as it is now.
        """
        if entry_id == into:
            raise StoreError("不能把一条记录并入它自己。")
        with self.write() as db:
            current = self.get_entry(entry_id)
            self._unchanged_since(current, seen)
            self._editable(current)
            if current["status"] in DONE:
                raise StoreError(f"编号 {entry_id} 已{current['status'].removeprefix('已')}，办过的记录不能并入别的记录。", 409)
            target = self.get_entry(into)
            if target["status"] == "已作废":
                went = next(db.query("SELECT note FROM history WHERE entry_id = ? AND note LIKE '并入编号%' "
                                     "ORDER BY id DESC LIMIT 1", [into]), None)
                raise StoreError(f"编号 {into} 已作废（{went['note']}），不能再并入它。" if went else
                                 f"编号 {into} 已作废，不能再并入它。", 409)
            if target["status"] in CLOSED:
                # raised on a day before the target was closed, it is a duplicate of what was then open (a 物业
                # trial): it may go in; raised on the day of the closing or after, it is a new report
                closed = next(db.query("SELECT max(at) AS at FROM history WHERE entry_id = ? AND field IN ('status', 'import') "
                                       "AND to_value = '已办结'", [into]))["at"]
                raised = current.get("received_at") or current.get("created")
                # by the community's day: a stamp's seconds may run ahead of the clock (`_later_than`), a day does not
                if target["status"] == "已作废" or not closed or not raised or _local_day(raised, zone) >= _local_day(closed, zone):
                    raise StoreError(f"编号 {into} 已{target['status'].removeprefix('已')}，不能再并入；"
                                     "问题办结后再次反映的，请作为新问题办理。", 409)
            self._same_problem(current, target)
            now = _later_than(max(current["updated"], target["updated"]))
            moved = db.execute("UPDATE repeats SET entry_id = ? WHERE entry_id = ?", [into, entry_id]).rowcount
            self._repeat(db, into, current, who, now, zone, worded=True)
            if moved:
                db["history"].insert({"entry_id": into, "at": now, "who": who, "field": "repeat", "from_value": None,
                                      "to_value": str(entry_id),
                                      "note": f"编号 {entry_id} 的 {moved} 次重复反映一并转入"})
            db["entries"].update(into, {"updated": now})
            taken: dict[str, Any] = {}
            if current.get("urgent") and not target.get("urgent"):  # the urgent report is not lost in the merge
                taken["urgent"] = True
                if current.get("deadline") and (not target.get("deadline") or current["deadline"] < target["deadline"]):
                    taken["deadline"] = current["deadline"]
            said = (current.get("response") or "").strip()
            if said and said not in (target.get("response") or ""):  # what was done on it is kept
                have = (target.get("response") or "").strip()
                taken["response"] = f"{have}；编号 {entry_id}：{said}" if have else said
            if taken and target["status"] not in CLOSED:  # a closed problem's 时限 and result are what they were
                self.update_entry(into, taken, who, f"并入编号 {entry_id}")
            self.update_entry(entry_id, {"status": "已作废", "needs_review": False}, who, f"并入编号 {into}（同一问题重复登记）")
        return self.get_entry(into)

    def split_entry(self, entry_id: int, part: str, moved: dict, kept: dict, who: str,
                    seen: dt.datetime | None = None) -> tuple[dict, dict]:
        """拆分: the words `part` of entry `entry_id` are another problem (a run-on voice log made one card of two).

        `moved` is the new entry, classified and routed on those words by the caller; `kept` the changes to
        this one (its remaining words, and a new category when it was never set by a person). Both in one
        transaction; each history says where the words went or came from. The new entry starts at 待派单 with
        the same receipt time, 社区 and upload. Refused for archived or handled entries. Returns (this, new).
        """
        with self.write() as db:
            current = self.get_entry(entry_id)
            self._unchanged_since(current, seen)
            self._editable(current)
            if current["status"] in DONE:
                raise StoreError(f"编号 {entry_id} 已{current['status'].removeprefix('已')}，办过的记录不能再拆分；"
                                 "其中另一个问题请作为新问题登记。", 409)
            # the words as they are now (a colleague may have split off something else meanwhile)
            left, quotes = split_words(current, part)
            kept = {**kept, "text": left, "quotes": quotes}
            now = _later_than(current["updated"])
            row = self._encode({**moved, "text_key": text_key(moved["text"]), "status": "待派单", "created": now,
                                "updated": now, "corrected": 0, "community": current.get("community"),
                                "job_id": current.get("job_id"), "received_at": current.get("received_at"),
                                "speakers": current.get("speakers") or [],
                                "place_key": place_key(moved["text"]) or current.get("place_key") or ""})
            row.pop("id", None)
            new_id = db["entries"].insert(row).last_pk
            db["history"].insert({"entry_id": new_id, "at": now, "who": who, "field": "status", "from_value": None,
                                  "to_value": "待派单", "note": f"由编号 {entry_id} 拆分而来（原记录中的另一个问题）"})
            self.update_entry(entry_id, kept, who, f"拆分：“{_clip(part)}”另立为编号 {new_id}")
            db["entries"].update(entry_id, {"text_key": text_key(kept["text"]),  # how repeats find it, not history
                                            "place_key": place_key(kept["text"]) or current.get("place_key") or ""})
        return self.get_entry(entry_id), self.get_entry(new_id)

    def correct(self, entry_id: int, category: str, category_name: str, owner: str, co_owners: list[str],
                deadline: str | None, urgent: bool, who: str, seen: dt.datetime | None = None, note: str = "",
                notes: list[str] | None = None) -> dict:
        """Store a staff correction as a labelled example and re-route the entry (`notes`: the routing's, anew)."""
        now = _now()
        with self.write() as db:
            current = self.get_entry(entry_id)
            self._unchanged_since(current, seen)
            self._editable(current)
            db["corrections"].insert({"entry_id": entry_id, "text": current["text"], "old_category": current["category"],
                                      "new_category": category, "old_owner": current["owner"], "new_owner": owner,
                                      "who": who, "at": now})
            changes = {"category": category, "category_name": category_name, "owner": owner, "co_owners": co_owners,
                       "deadline": deadline, "urgent": urgent, "corrected": True, "needs_review": False}
            if notes is not None and category != current["category"]:
                changes["notes"] = notes
            if current["status"] in CLOSED:  # done already: the label is fixed, the deadline it was done by stays
                del changes["deadline"], changes["urgent"]
            said = "人工更正"
            if category == current["category"]:  # confirmed, not corrected: kept as a labelled example all the same,
                changes["corrected"] = current["corrected"]  # but not counted as a correction in the statistics
                changes.pop("deadline", None)  # and a 紧急 or 时限 someone set with a reason stays
                changes.pop("urgent", None)
                said = "人工确认类别"
                db["history"].insert({"entry_id": entry_id, "at": now, "who": who, "field": "category_name",
                                      "from_value": category_name, "to_value": category_name,
                                      "note": f"{said}：{note.strip()}" if note.strip() else said})
            return self.update_entry(entry_id, changes, who, f"{said}：{note.strip()}" if note.strip() else said)

    def corrections(self) -> list[dict]:
        """All corrections, oldest first."""
        return list(self.db.query("SELECT * FROM corrections ORDER BY id"))

    LABELLED_COLUMNS = ("text", "label", "previous", "who", "at")

    def labelled_examples(self) -> list[dict]:
        """Corrections and imported examples as export rows (columns LABELLED_COLUMNS)."""
        return [{"text": r["text"], "label": r["new_category"], "previous": r["old_category"], "who": r["who"],
                 "at": r["at"]} for r in self.corrections()]

    def import_labelled(self, pairs: list[tuple[str, str]], who: str) -> int:
        """Store (text, code) pairs as labelled examples in one transaction; returns how many were new.

        A pair already stored (the same file imported twice) is not stored again.
        """
        now = _now()
        with self.write() as db:
            have = {(r["text"], r["new_category"]) for r in db.query("SELECT text, new_category FROM corrections")}
            fresh = list(dict.fromkeys(p for p in pairs if p not in have))
            db["corrections"].insert_all([{"entry_id": None, "text": t, "old_category": None, "new_category": c,
                                           "old_owner": None, "new_owner": None, "who": who, "at": now}
                                          for t, c in fresh])
        return len(fresh)


def _clip(text: str, at: int = 30) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= at else text[:at - 1] + "…"


# what is left at a cut: "…不安全然后" once "五栋电梯停了" is taken out says "然后" to nothing
_LOOSE_ENDS = re.compile(r"^[\s，,；;、。]+|(?:[\s，,；;、]|然后|还有|另外|对了|再就是|接着|而且|并且|同时|以及)+$")


def split_words(entry: dict, part: str) -> tuple[str, list[str]]:
    """The words an entry keeps once `part` is taken out of them: (its text, its residents' quotes).

    `part` must be words of the entry, within one quote, and something must be left; StoreError 400 if not.
    """
    part = part.strip()
    text = entry.get("text") or ""
    if not part:
        raise StoreError("请填写要拆出的文字：从原文中复制属于另一个问题的那一段。")
    if part not in text:
        raise StoreError("要拆出的文字不在这条记录的原文里，请从原文中原样复制那一段（不要改字）。")
    if len(re.findall(r"[\u4e00-\u9fff\w]", part)) < 4:
        raise StoreError("要拆出的文字太短：请复制另一个问题的完整说法（至少四个字），例如“五栋电梯停了”。")
    quotes = list(entry.get("quotes") or [])
    if quotes and not any(part in q for q in quotes):
        raise StoreError("要拆出的文字跨了两段居民原话，请一次只拆出一段里的文字。")

    def cut(words: str) -> str:
        at = words.find(part)
        if at < 0:
            return words
        head, tail = _LOOSE_ENDS.sub("", words[:at]), _LOOSE_ENDS.sub("", words[at + len(part):])
        return f"{head}，{tail}" if head and tail else head or tail

    left = cut(text)
    if len(re.findall(r"[\u4e00-\u9fff\w]", left)) < 3:
        raise StoreError("拆出这段后，原记录就没有别的内容了：如果整条记录的类别不对，请用“更正类别”。")
    return left, [q for q in (cut(q) for q in quotes) if q]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value), ensure_ascii=False)
    return str(value)
