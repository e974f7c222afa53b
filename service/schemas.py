"""Pydantic schemas at the HTTP edge (the library itself uses frozen dataclasses)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator


def _sane_time(value: dt.datetime) -> dt.datetime:
    # Deadlines are counted on China's working-day calendar; far-off years are typing mistakes.
    if not 2000 <= value.year <= 2099:
        raise ValueError("受理时间应在 2000–2099 年之间")
    return value


ReceivedAt = Annotated[dt.datetime, AfterValidator(_sane_time)]

__all__ = [
    "ClassifyIn", "ClassifyOut", "CorrectionIn", "EntryOut", "EntryPatch", "ExtractIn", "ReceivedAt", "ExtractOut",
    "IssueOut", "JobOut", "MergeIn", "SaveIn", "SaveIssue", "StatusIn", "TokenIn",
]


class ClassifyIn(BaseModel):
    text: str = Field(description="一条居民诉求或工单内容")
    received_at: ReceivedAt | None = Field(None, description="受理时间（ISO 8601），默认现在")
    save: bool = Field(False, description="同时存入台账（需要 staff 权限）")


class ClassifyOut(BaseModel):
    text: str
    category: str
    category_name: str
    secondary: list[str]
    confidence: float
    margin: float
    needs_review: bool
    urgent: bool
    owner: str
    co_owners: list[str]
    deadline: dt.datetime | None
    explanation: str
    model_version: str
    notes: list[str]
    location: str | None = None
    entry_id: int | None = None
    already: bool = False  # with save: the same text was already in the ledger (this is its entry)


class ExtractIn(BaseModel):
    text: str = Field(description="会议纪要、巡查日志或工单汇总的全文")
    received_at: ReceivedAt | None = None
    save: bool = Field(False, description="同时存入台账（需要 staff 权限）")


class IssueOut(BaseModel):
    summary: str
    category: str
    category_name: str
    secondary: list[str]
    urgent: bool
    owner: str
    co_owners: list[str]
    deadline: ReceivedAt | None
    location: str | None
    speakers: list[str]
    mentions: int
    quotes: list[str]
    response: str | None
    confidence: float
    needs_review: bool
    notes: list[str]
    received_at: ReceivedAt | None = None  # a walk log's line time, when the line gives one
    ref: str | None = None  # 工单号, when the notes are a pasted 12345 table
    entry_id: int | None = None
    already: bool = False  # with save: already in the ledger, not entered again


class ExtractOut(BaseModel):
    issues: list[IssueOut]
    model_version: str
    markdown: str
    received_at: dt.datetime | None = None  # the clock deadlines count from: given, the record's date, or now
    beyond: list[str] = []  # matters outside the community staff did not pass on (入学, 养老金): not listed as issues
    unlisted: list[str] = []  # residents' requests and questions not read as problems (希望社区医生能上门量血压)
    # pairs of issues (indexes into `issues`) kept apart that may be one problem: for staff to confirm
    likely_repeats: list[list[int]] = []


def has_words(text: str | None) -> bool:
    """Some letter, digit or Chinese character: "？？？", "😀😀" or zero-width spaces say nothing to file."""
    return bool(text) and re.search(r"[^\W_]", text) is not None


Line = Annotated[str, Field(max_length=100_000)]  # a quote of an unpunctuated transcript can be long
Short = Annotated[str, Field(max_length=200)]


class SaveIssue(IssueOut):
    """An issue sent back to be saved: the same fields as /api/extract gives, within the limits a ledger row has."""

    received_at: ReceivedAt | None = Field(None, description="受理时间：纪要写明的会议日期等；默认现在")
    summary: str = Field(max_length=500)
    category: str = Field(max_length=40)
    category_name: str = Field(max_length=40)
    secondary: list[Short] = Field(max_length=20)
    owner: str = Field(max_length=100)
    co_owners: list[Short] = Field(max_length=20)
    location: str | None = Field(None, max_length=200)
    speakers: list[Short] = Field(max_length=100)
    mentions: int = Field(ge=1, le=10_000)
    quotes: list[Line] = Field(max_length=200)
    response: str | None = Field(None, max_length=5000)
    confidence: float = Field(ge=0, le=1)
    notes: list[Line] = Field(max_length=50)
    ref: str | None = Field(None, max_length=60)

    @model_validator(mode="after")
    def _says_something(self):
        if not (has_words(self.summary) or any(has_words(q) for q in self.quotes)):
            raise ValueError("问题内容为空：摘要和原话里都没有文字")
        if sum(map(len, self.quotes)) > 100_000:
            raise ValueError("原话太长（合计最多 100000 字）")
        return self


class SaveIn(BaseModel):
    issues: list[SaveIssue] = Field(min_length=1, max_length=500)
    source: str = Field("extract", max_length=40)
    text: str | None = Field(None, description="原始纪要（可选，存档用）")


class EntryOut(BaseModel):
    id: int
    text: str
    summary: str | None
    category: str
    category_name: str | None
    secondary: list[str]
    owner: str | None
    co_owners: list[str]
    urgent: bool
    deadline: dt.datetime | None
    received_at: dt.datetime | None
    created: dt.datetime
    updated: dt.datetime
    status: str
    location: str | None
    speakers: list[str]
    quotes: list[str]
    response: str | None
    confidence: float | None
    needs_review: bool
    model_version: str | None
    source: str | None
    corrected: bool
    satisfaction: int | None
    feedback: str | None
    ref: str | None = None  # 12345 工单编号
    contact: str | None = None  # 来电人 / 联系方式, for 回访
    community: str | None = None  # 所属社区, from a ticket export
    notes: list[str] = []  # what the reading noted: a routing rule, "疑似重复：与台账第 N 条相近", the centre's 时限
    overdue: Literal["", "yellow", "red"] = ""
    already: bool = False  # on save: this text was already in the ledger (open), not entered again


class EntryPatch(BaseModel):
    summary: str | None = Field(None, max_length=500)
    location: str | None = Field(None, max_length=200)
    response: str | None = Field(None, max_length=2000)
    owner: str | None = Field(None, max_length=100)
    community: str | None = Field(None, max_length=40, description="所属社区")
    urgent: bool | None = Field(None, description="紧急：改了而不给 deadline 时，办理时限按类别重新计算")
    deadline: str | None = Field(None, max_length=40, description="办理时限：2026-11-30、11月30日 18:00 …（需写明原因 note）")
    note: str | None = Field(None, max_length=500)
    seen: dt.datetime | None = Field(None, description="可选：您看到的这条记录的 updated；期间被他人改过则返回 409")

    @field_validator("owner", "response")
    @classmethod
    def _not_blank(cls, value: str | None, info) -> str | None:
        if value is not None and not value.strip():
            raise ValueError({"owner": "责任主体不能为空",
                              "response": "办理情况不能为空：要更正，请直接写上新的办理情况"}[info.field_name])
        return value.strip() if value else value


class MergeIn(BaseModel):
    into: int = Field(ge=1, le=2**53, description="并入哪一条：台账编号")
    seen: dt.datetime | None = Field(None, description="可选：您看到的这条记录的 updated；期间被他人改过则返回 409")


class SplitIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000, description="要拆出的文字：原文中属于另一个问题的那一段，原样复制")
    seen: dt.datetime | None = Field(None, description="可选：您看到的这条记录的 updated；期间被他人改过则返回 409")


_VISIT_SCORES = ((r"非常不满意|很不满意", 1), (r"不满意|不太满意|不是很满意|不怎么满意|不够满意|不大满意|不满", 2),
                 (r"一般|还行|凑合", 3), (r"基本满意|比较满意|较满意", 4), (r"非常满意|很满意|满意", 5))


def visit_score(value) -> int | None:
    """满意 5, 基本满意 4, 一般 3, 不满意 2, 非常不满意 1, or the score itself ("4", "4分")."""
    text = str(value or "").strip()
    number = re.fullmatch(r"([1-5])(?:\.0)?\s*分?", text)
    if number:
        return int(number.group(1))
    return next((score for words, score in _VISIT_SCORES if re.search(words, text)), None)


# what staff type for a status: 派单 is 已派单, 办结 is 已办结 …
_STATUS_WORDS = {"派单": "已派单", "已分派": "已派单", "在办": "办理中", "处理中": "办理中", "正在办理": "办理中",
                 "办结": "已办结", "办完": "已办结", "已完成": "已办结", "回访": "已回访", "销号": "已销号",
                 "作废": "已作废", "待办": "待派单"}


class StatusIn(BaseModel):
    status: str = Field(description="待派单 / 已派单 / 办理中 / 已办结 / 已回访 / 已销号 / 已作废（需写原因）")
    note: str | None = Field(None, max_length=500)
    satisfaction: int | str | None = Field(None, description="回访满意度 1–5，或 满意 / 基本满意 / 一般 / 不满意 / 非常不满意")
    done_at: str | None = Field(None, max_length=40, description="已办结：实际办结时间（如 2026-11-22 16:00、11月22日），不填为现在")
    feedback: str | None = Field(None, max_length=2000)
    seen: dt.datetime | None = Field(None, description="可选：您看到的这条记录的 updated；期间被他人改过则返回 409")

    @field_validator("status")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()  # "已派单 " with the space an input method left
        return _STATUS_WORDS.get(value, value)

    @field_validator("satisfaction")
    @classmethod
    def _score(cls, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        score = visit_score(value) if not isinstance(value, bool) else None
        if score is None:
            raise ValueError("请填 1–5 的整数，或 满意、基本满意、一般、不满意、非常不满意")
        return score


class CorrectionIn(BaseModel):
    category: str = Field(description="新类别（代码或中文名，如 pets / 宠物管理）")
    owner: str | None = Field(None, max_length=100, description="可选：同时改责任主体")
    note: str | None = Field(None, max_length=500, description="可选：更正的理由（记入办理记录）")
    seen: dt.datetime | None = Field(None, description="可选：您看到的这条记录的 updated；期间被他人改过则返回 409")


class TokenIn(BaseModel):
    role: Literal["viewer", "staff", "admin"] = Field("staff", description="viewer 查看 / staff 办理 / admin 管理")
    name: str = Field(min_length=1, max_length=40, description="令牌持有人，如 张三")
    community: str = Field("", max_length=40, description="可选：持有人所在社区；他录入的没写社区的问题记在这个社区")


class JobOut(BaseModel):
    id: str
    status: str
    total: int
    done: int
    review: int | None
    created: dt.datetime
    finished: dt.datetime | None
    error: str | None
    input_name: str | None
    download: str | None
    result: dict | None = None  # retrain: the gate's outcome
    saved: int | None = None  # upload with 存入台账: new entries
    already: int | None = None  # …and rows already in the ledger (same 工单编号 or text), not entered twice
    repeat: int | None = None  # …and repeat calls about an open entry (new 工单编号 or another day), joined to it
    alike: int | None = None  # …of the new entries, those that look like an open one (疑似重复, marked 待复核)
    past: int | None = None  # …of the new entries, those an old 问题台账 gave a state (办结, 回访), kept
    advanced: int | None = None  # …rows of an updated old 问题台账 uploaded again that moved their entry on (办结, 回访)
    undone: dt.datetime | None = None  # 撤销导入: when the entries this upload entered were voided
    who: str | None = None  # who uploaded it (only they or an administrator may take it back)
    notes: list[str] = []  # on upload: title rows, 合计 rows, the sheet or text column that was guessed
