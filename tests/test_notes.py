"""triage.notes helpers beyond the fixture sets: the meeting date a record states."""

import datetime as dt

import pytest

from triage.notes import meeting_date

from .conftest import NOW  # Wednesday 2026-11-25 09:30 in Beijing

DATES = [
    ("幸福社区板凳会记录（11月24日）\n张大爷：电梯坏了", dt.datetime(2026, 11, 24, 9, 0)),
    ("时间：2026年11月20日下午\n地点：3号楼前", dt.datetime(2026, 11, 20, 9, 0)),
    ("2026-11-18 网格巡查日志\n1. 东门路灯不亮", dt.datetime(2026, 11, 18, 9, 0)),
    ("议事会 2026.11.23\n王阿姨：漏水", dt.datetime(2026, 11, 23, 9, 0)),
    ("今天开会\n居民说11.02那天停了一天水", None),  # a date deep in the text is about something else
    ("板凳会（12月30日）", None),  # last year's 30 Dec is more than three months back
    ("2025年11月24日 板凳会", None),  # a year ago
    ("2026年11月26日 板凳会", None),  # tomorrow: not a record of a meeting that happened
    ("张大爷：3号楼电梯坏了两天", None),
    ("会议（2月30日）", None),  # no such day
]


@pytest.mark.parametrize("text, expected", DATES)
def test_meeting_date(text, expected):
    got = meeting_date(text, NOW)
    assert got == (expected.replace(tzinfo=NOW.tzinfo) if expected else None)


def test_a_meeting_this_morning_never_lies_in_the_future():
    early = NOW.replace(hour=8)
    assert meeting_date("11月25日板凳会", early) == early
