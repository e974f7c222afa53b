"""Places named in a complaint: buildings, units, gates, bike sheds, estates and roads."""

from __future__ import annotations

import re

__all__ = ["find_places", "place_keys", "places_conflict"]

_NUM = r"(?:[A-Za-z]?\d{1,3}|[一二三四五六七八九十]{1,3})"
_PLACE = re.compile(
    rf"{_NUM}\s*(?:号楼|号住宅楼|栋|幢|号院|座)(?:{_NUM}\s*单元)?"
    rf"|{_NUM}\s*单元"
    r"|[东南西北](?:大|侧|边)?门"
    r"|(?:[东南西北](?:侧|边)?)?(?:车棚|充电棚|地下车库|地库|停车场|小广场|中心广场|广场|花园|游乐场|菜市场|垃圾站)"
    r"|[\u4e00-\u9fff]{2,5}(?:小区|花园|家园|新村|公寓|苑|里|社区)(?=[^\u4e00-\u9fff]|[\d一二三四五六七八九十东南西北的内里门]|$)"
    r"|[\u4e00-\u9fff]{2,4}(?:路|街|大道|巷)(?=[\d一二三四五六七八九十东南西北口与和交段边旁上附的，,。]|$)"
)
_BAD_PREFIX = re.compile(r"^(?:家住|住在|位于|我们|咱们|他们|你们|这个|那个|整个|我家|本|该|在|到|从|对|给|把|住|是|的|个|和|与|及|附近|旁边|门口|前面|后面|楼下|里面)+")
_BAD_NAME = ("马路", "道路", "公路", "小路", "走路", "过路", "上路", "修路", "一条路", "那里", "这里", "哪里", "心里", "家里", "夜里", "城里", "村里", "屋里", "院里", "社区里")
_CN = {c: str(i) for i, c in enumerate("零一二三四五六七八九", 0)}


def find_places(text: str) -> list[str]:
    """Distinct places in order of appearance, as written."""
    out: list[str] = []
    for m in _PLACE.finditer(text):
        place = _BAD_PREFIX.sub("", m.group().strip())
        if len(place) < 2 or any(place.endswith(b) or place == b for b in _BAD_NAME):
            continue
        if any(place in p for p in out):
            continue
        out = [p for p in out if p not in place] + [place]
    return out


def _digits(text: str) -> str:
    if re.fullmatch(r"[一二三四五六七八九十]{1,3}", text):
        if text == "十":
            return "10"
        if text.startswith("十"):
            return "1" + _CN.get(text[1], "0")
        if text.endswith("十"):
            return _CN.get(text[0], "0") + "0"
        return "".join(_CN.get(c, "") for c in text.replace("十", ""))
    return text.upper()


def place_keys(places: list[str]) -> set[str]:
    """Comparable keys: 3号楼, 3栋 and 三号楼 are the same building."""
    keys = set()
    for p in places:
        m = re.match(rf"({_NUM})\s*(号楼|号住宅楼|栋|幢|座)", p)
        if m:
            keys.add("楼" + _digits(m.group(1)))
            continue
        m = re.match(rf"({_NUM})\s*单元", p)
        if m:
            continue  # a unit number alone does not say which building
        keys.add(p.replace("边", "").replace("侧", "").replace("大门", "门"))
    return keys


def _kind(key: str) -> int:
    if key.startswith("楼") and key[1:].isalnum():
        return 0
    if key.endswith(("门", "车棚", "充电棚", "车库", "地库", "停车场", "广场", "花园", "游乐场", "菜市场", "垃圾站")):
        return 1
    return 2


def places_conflict(a: set[str], b: set[str]) -> bool:
    """True when two key sets name different places of the same kind (3号楼 vs 8号楼)."""
    for kind in (0, 1, 2):
        ka = {k for k in a if _kind(k) == kind}
        kb = {k for k in b if _kind(k) == kind}
        if ka and kb:
            return not (ka & kb)
    return False
