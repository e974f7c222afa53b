"""Places named in a complaint: buildings, units, gates, bike sheds, estates and roads."""

from __future__ import annotations

import re

from .normalize import to_simplified

__all__ = ["find_places", "place_keys", "places_conflict", "search_variants"]

# Traditional forms of the place words, so places are found in the text as written (北門, 3號樓).
_TRAD = {"号": "號", "楼": "樓", "栋": "棟", "门": "門", "单": "單", "车": "車", "区": "區", "场": "場", "库": "庫",
         "园": "園", "广": "廣", "东": "東", "侧": "側", "边": "邊", "电": "電", "圾": "圾", "站": "站", "们": "們",
         "乐": "樂", "业": "業", "里": "裡", "个": "個", "这": "這", "那": "那", "对": "對", "从": "從",
         "与": "與", "给": "給", "该": "該", "后": "後", "面": "面", "内": "內", "长": "長", "政": "政", "时": "時"}


def _both(pattern: str) -> str:
    out, depth = [], 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        trad = _TRAD.get(ch)
        out.append((ch + trad if depth else f"[{ch}{trad}]") if trad and trad != ch else ch)
    return "".join(out)


_NUM = r"(?:[A-Za-z]?\d{1,3}|[一二三四五六七八九十]{1,3})"
_PLACE = re.compile(_both(
    rf"{_NUM}\s*(?:号楼|号住宅楼|栋|幢|号院|座|#楼?)(?:{_NUM}\s*单元)?"
    rf"|{_NUM}\s*单元"
    # a building lettered, as Hong Kong and Taiwan estates do: "B棟後面的腳踏車棚", "C座"
    rf"|(?<![A-Za-z0-9])[A-Z]\s*(?:栋|幢|座|区)(?:{_NUM}\s*单元)?"
    r"|[东南西北](?:大|侧|边)?门"
    # "还有就是小区门口那个快递柜边上": the estate's own gate (not 阳光小区门口, an estate named)
    r"|(?:(?<![\u4e00-\u9fff])|(?<=[是在的就到那这个们了出进]))小区(?:大|正)?门口?(?![卫岗禁])"
    r"|(?:[东南西北](?:侧|边)?)?(?:车棚|充电棚|地下车库|地库|停车场|小广场|中心广场|广场|花园|游乐场|菜市场|垃圾站)"
    # a basement level of the car park: "B2那排充电桩", "负一层车库", "地下二层"
    r"|(?<![A-Za-z0-9])[Bb][1-4](?=层|车库|停车场|那排|那边|充电|车位)|(?:负|地下)[一二三四1-4]层"
    r"|(?:(?<![\u4e00-\u9fff])|(?<=[们的在住]))[东南西北中][区院](?![\u4e00-\u9fff]{0,1}[长委政])|(?<=小区)[东南西北中]区"
    r"|(?:和(?=[平谐美顺兴盛睦悦])[^\s\d的了是在我们这那个和与及从到把被给对向，。,、：:“”\"（）()]{1,5}"
    r"|[^\s\d的了是在我们这那个和与及从到把被给对向，。,、：:“”\"（）()]{2,5}"
    # 和 inside a name: 丰和苑, 祥和家园, 中和花园
    r"|[^\s\d的了是在我们这那个和与及从到把被给对向，。,、：:“”\"（）()]{1,3}和(?=苑|园|家园|花园|小区|新村))"
    r"(?:小区|花园|家园|新村|公寓|苑|社区)"
    # an estate named without 小区, right before its building: 碧桂园5号楼, 万科城7栋, 和平里3号楼, 锦绣华庭8座
    r"|(?:和(?=[平谐美顺兴盛睦悦]))?[^\s\d的了是在我们这那个和与及从到把被给对向，。,、：:“”\"（）()]{1,5}(?:园|城|里|庭|府|湾|郡|邸|居|阁|轩|坊|院|庄|村|岸|汇|荟|墅|公馆)"
    r"(?=\s*[A-Za-z]?\d{1,3}\s*(?:号楼|号住宅楼|栋|幢|座|#|号院))"
    r"|[\u4e00-\u9fff]{2,4}(?:路|街|大道|巷)(?=[\d一二三四五六七八九十东南西北口与和交段边旁上附的，,。]|$)"
))
_BAD_PREFIX = re.compile(_both(r"^(?:和(?![平谐美顺兴盛睦悦])|晚上|早上|白天|夜里|半夜|中午|下午|上午|每天|天天|平时|还有|另外|就是|咨询一下|咨询|请问|问一下|想问|人称|反映|投诉|来电|家住|住在|位于|我们|咱们|他们|你们|这个|那个|整个|我家|本|该|在|到|从|对|给|把|住|是|的|个|与|及|附近|旁边|门口|前面|后面|楼下|里面|目前|现在|当前|最近|近期|近日|近来|日前|今天|昨天|前天|明天|后天|今晚|明早|找|一下|要求|建议|请求|恳请|麻烦|加强|规范|整治|督促|协调|尽快|本周|上周|本月|上月|今年|去年|所在|整个|原来|原先|以前|之前|其实|因为|而且|但是|所以|事|上次|上回|这次|那次|下次|每次)+"))
_SAID_BEFORE_NAME = re.compile(_both(r"^[^，,。]*(?:反映|投诉|来电|咨询|报修|家住|住在|位于|人称|称|说|表扬|感谢|询问|问|知道|觉得|建议|要求)"))
_GENERIC = ("小区", "社区", "花园", "公寓", "家园", "本小区", "我们小区")  # no place named: "还有小区东门"
_BAD_NAME = ("马路", "道路", "公路", "小路", "走路", "过路", "上路", "修路", "一条路", "那里", "这里", "哪里", "心里", "家里", "夜里", "城里", "村里", "屋里", "院里", "社区里",
             "楼道里", "小区里", "单元里", "大院里", "公园", "幼儿园", "校园", "医院", "学院", "进城", "县城")
_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}


# two-character words a place name never starts inside
_CUT_WORDS = {"反映", "投诉", "咨询", "希望", "要求", "建议", "来电", "家住", "住在", "位于", "人称", "声称"}


def find_places(text: str) -> list[str]:
    """Distinct places in order of appearance, as written."""
    out: list[str] = []
    for m in _PLACE.finditer(text):
        place = m.group().strip()
        if m.start() and text[m.start() - 1:m.start() + 1] in _CUT_WORDS:
            place = place[1:]  # "来电人反映青石桥北里": the match began inside 反映
        if re.match(_both(r"希望(?:加强|规范|整治|督促|协调|尽快)*(?:社区|小区)$"), place) and (
                to_simplified(place) not in ("希望社区", "希望小区") or re.match(r"\s*(?:能|尽快|赶紧|赶快|安排|派人|来|去|联系|加强|管|帮|解决|协调|处理|出面|重视|给|把|对|早日|多)",
                                                      text[m.end():m.end() + 3])):
            continue  # "希望社区能管一管", "希望加强小区管理": a wish, not 希望社区 or 希望小区
        place = _BAD_PREFIX.sub("", place)
        # "市民反映兰亭苑", "来电人称清风苑12栋": the name starts after what the caller did
        place = _BAD_PREFIX.sub("", _SAID_BEFORE_NAME.sub("", place))  # "要求明天找社区" names no estate
        if re.search(_both("街道|镇"), place[:-2]) and re.search(_both("(?:小区|花园|家园|新村|公寓|苑|社区)$"), place):
            place = re.split(_both("街道|镇"), place)[-1]  # "新华街道红旗小区": the estate is 红旗小区
        simple = to_simplified(place)
        if len(place) < 2 or simple in _GENERIC or any(simple.endswith(b) or simple == b for b in _BAD_NAME):
            continue
        if simple.endswith(("路", "街")) and (simple[-2] in "到在过走上下条马道公小修铁岔山出进停" or "的" in simple):
            continue
        if simple.endswith("里") and (len(simple) < 3 or simple[-2] in "子梯库群月楼道区院家屋这那哪心夜间车店室房城村"):
            continue  # 群里, 院子里, 电梯里, 这个月里: where, not an estate (和平里, 幸福里 are)
        if simple in ("邻居", "街坊", "老街坊", "新居", "故居", "民居", "同居", "独居"):
            continue
        if any(place in p for p in out):
            continue
        out = [p for p in out if p not in place] + [place]
    return out


def cn_number(text: str) -> int | None:
    """A numeral up to 99, Arabic or Chinese (3, 03, 三, 十二, 二十三), as an int; None for anything else."""
    if text.isdigit():
        return int(text)
    head, ten, tail = text.partition("十")
    if not ten:
        return _CN_DIGITS.get(text) if len(text) == 1 else None
    if len(head) > 1 or len(tail) > 1 or any(c not in _CN_DIGITS for c in head + tail):
        return None
    return _CN_DIGITS.get(head, 1) * 10 + _CN_DIGITS.get(tail, 0)


def _digits(text: str) -> str:
    """The number as Arabic digits (三 → 3, 03 → 3); other labels (A, B2) upper-cased."""
    n = cn_number(text)
    return str(n) if n is not None else text.upper()


def place_keys(places: list[str]) -> set[str]:
    """Comparable keys: 3号楼, 3栋, 3號樓 and 三号楼 are the same building."""
    keys = set()
    for p in map(to_simplified, places):
        building = re.match(rf"({_NUM}|[A-Z])\s*(号楼|号住宅楼|栋|幢|座|#)", p)  # A座 is a building too
        unit = re.search(rf"({_NUM})\s*单元", p)
        if building:
            keys.add("楼" + _digits(building.group(1)))
        if unit:
            keys.add("单元" + _digits(unit.group(1)))
        if building or unit:
            continue
        level = re.fullmatch(r"[Bb]([1-4])|(?:负|地下)([一二三四1-4])层", p)
        if level:  # B2, 负二层 and 地下二层 are one basement level
            keys.add("地下" + _digits(level.group(1) or level.group(2)))
            continue
        keys.add(p.replace("边", "").replace("侧", "").replace("大门", "门"))
    return keys


def _kind(key: str) -> int:
    if key.startswith("楼") and key[1:].isalnum():
        return 0
    if key.startswith("单元") and key[2:].isalnum():
        return 3
    if key.endswith(("门", "车棚", "充电棚", "车库", "地库", "停车场", "广场", "花园", "游乐场", "菜市场", "垃圾站")):
        return 1
    return 2


def _narrows(longer: str, shorter: str) -> bool:
    """东车棚 says which 车棚; 13号院 is not a kind of 3号院."""
    return longer.endswith(shorter) and not re.search(r"\d", longer[:len(longer) - len(shorter)])


def places_conflict(a: set[str], b: set[str]) -> bool:
    """True when two key sets name different places of the same kind (3号楼 vs 8号楼)."""
    for kind in (0, 3, 1, 2):
        ka = {k for k in a if _kind(k) == kind}
        kb = {k for k in b if _kind(k) == kind}
        # 车棚 leaves out which one, 东车棚 says it: no conflict (楼1 and 楼11 do conflict)
        if ka and kb and not (ka & kb) and not any(_narrows(x, y) or _narrows(y, x) for x in ka for y in kb):
            return True
        if kind == 0 and ka and kb:
            continue  # same building: units may still differ
    return False


_BUILDING = re.compile(rf"({_NUM})\s*(号楼|栋|幢|单元|#楼?)")


def _chinese(number: str) -> str:
    n = int(number)
    if not 0 < n < 100:
        return number
    tens, ones = divmod(n, 10)
    digits = "零一二三四五六七八九"
    return (("" if tens == 1 else digits[tens]) + "十" if tens else "") + (digits[ones] if ones else "")


def search_variants(query: str) -> list[str]:
    """Ways the same place may be written in a ledger search: 三号楼 also finds 3号楼, 3栋, 3幢 and 3#楼."""
    out = list(dict.fromkeys([query, to_simplified(query)]))
    query = out[-1]
    m = _BUILDING.search(query)
    if not m:
        return out
    number = _digits(m.group(1))
    numbers = [number, _chinese(number)] if number.isdigit() else [number]
    suffixes = ["单元"] if m.group(2) == "单元" else ["号楼", "栋", "幢", "#"]  # 3# also finds 3#楼, 3#电梯
    for n in numbers:
        for suffix in suffixes:
            if suffix == "#" and not n.isdigit():
                continue
            variant = query[:m.start()] + n + suffix + query[m.end():]
            if variant not in out:
                out.append(variant)
    return out
