"""Split meeting notes, walk logs and ticket batches into utterances.

An utterance is one speaker turn, one numbered item or one ticket, with the speaker
prefix removed and the original characters kept (quotes are shown to staff as written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .normalize import normalize, strip_pinyin
from .places import cn_number, find_places

__all__ = ["STAFF_TITLES", "Utterance", "sentences", "split_utterances"]

# Titles that mark a speaker as staff answering, not a resident raising a problem.
STAFF_TITLES = ("书记", "主任", "经理", "主持人", "网格员", "值班", "答复", "回复", "所长", "站长", "科长", "局长", "社工", "工作人员",
                "物业", "民警", "街道", "干部", "委员", "队长", "负责人", "管家", "客服")
_PERSON = (r"(?:书记|主任|经理|大爷|大妈|大娘|阿姨|奶奶|爷爷|婆婆|大叔|叔叔|大姐|大哥|师傅|女士|先生|老师|同志"
           r"|网格员|主持人|社工|站长|所长|民警|律师|楼长|组长|老人|小伙|姑娘)")
_META = {"时间", "地点", "日期", "主题", "议题", "参会人员", "参加人员", "出席", "出席人员", "记录", "记录人", "主持",
         "天气", "网格", "巡查人", "处理情况", "来源", "编辑", "责任编辑", "备注", "会议内容", "会议主题", "地址",
         "电话", "联系电话", "标题", "作者", "发布时间", "关键词", "摘要", "诉求", "诉求内容", "工单编号", "受理时间",
         "又及", "附", "附言", "再及", "另", "PS", "P.S."}  # a letter's postscript: "又及：今早我下楼，…"
_SPEAKER = re.compile(r"^(?P<who>(?:(?:居民代表|业主代表|代表|居民|业主|村民|楼长|单元长|网格员|物业|社区|主持人?"
                      # "2号楼楼栋长 杜建国：", "物业经理 蒋伟：": a title, a space, the name
                      r"|[\u4e00-\u9fff\d]{0,8}(?:楼栋长|栋长|楼长|单元长|代表|经理|主任|书记|网格员|社工|管家)"
                      # a chat nickname, a space, the sender's flat: "老陈 3栋502：", "小鱼儿 8-703："
                      r"|[^\s：:，,。！？!?“”\"、；;]{1,12}(?=\s+(?:\d{1,3}\s*[栋幢棟座#]|\d{1,3}-\d)))\s+)?"
                      r"[^\s：:，,。！？!?“”\"、；;]{1,20}?)\s*[：:]\s*(?P<body>\S.*)$")
_VERBS = r"(?:说|讲|表示|提出|反映|补充|回应|回复|答复|介绍|强调|指出)"
_SAYS = re.compile(rf"^(?P<who>(?:居民|业主|村民|租户)?[\u4e00-\u9fff]{{0,4}}{_PERSON}(?:[（(][^）)]{{1,12}}[）)])?)"
                   rf"{_VERBS}(?:道)?[：:，,…。\s]*(?P<body>.+)$")
# ("刚才大姐说的7号楼…" points back at what she said: not a new speaker)
_INLINE = re.compile(rf"(?<=[\s。；;！？!?”」，,])(?=(?:(?!刚才|刚刚|方才|前面|上面|那个|这个)(?:居民|业主)?[\u4e00-\u9fff]{{1,2}}{_PERSON}"
                     rf"(?:说(?![的得过])|讲(?![的得过])|[：:])"
                     rf"|(?!居民|业主|群众|大家|住户|有人)[\u4e00-\u9fff]{{2,3}}(?:表示|回应|答复|承诺)"
                     rf"|[\u4e00-\u9fff]{{1,3}}{_PERSON}{_VERBS}[，,：:]|(?:有|另有|还有)?居民代表{_VERBS}))")
# Voice transcripts: "主持人刘主任 好那我们开始吧 李阿姨 我先说一个……" — speakers as bare words between spaces.
_VOICE_SPEAKER = re.compile(rf"^(?:主持人|物业|社区|居民|业主)?(?:[\u4e00-\u9fff]{{0,2}}{_PERSON}|[老小][\u4e00-\u9fff]|[\u4e00-\u9fff][姐哥叔婶姨])$")
_TICKET = re.compile(r"^\s*[【\[](?P<tag>[^】\]]{0,8}(?:工单|工單|诉求|訴求|来电|來電|投诉|投訴|热线|熱線)[^】\]]{0,8})[】\]]\s*(?P<body>.*)$")
_NUMBERED = re.compile(r"^\s*(?:(?P<n1>\d{1,2})\s*[\.、．)）]|[（(](?P<n2>\d{1,2}|[一二三四五六七八九十]{1,3})[)）]|(?P<n3>[一二三四五六七八九十]{1,3})、)\s*(?P<body>\S.*)$")
# "· 8:50 北门消防通道……", "- 9:30 …", "• …", "10:20 南区垃圾站……": one entry of a walk or duty log
_BULLET = re.compile(r"^\s*(?:[·•●○◆◇▪■□▶►▲△★☆*＊\-－—]\s*(?:(?:上午|下午|晚上|早上)?\d{1,2}[:：]\d{2}\s+)?"
                     r"|(?:上午|下午|晚上|早上)?\d{1,2}[:：]\d{2}\s+)(?P<body>(?!\d{1,2}[:：]\d)[^\s:：].*)$")
# A letter or a long message numbering its matters in words: "第一件事，…", "第二个问题：…"
_ORDINAL_MATTER = re.compile(r"^\s*第(?P<n>[一二三四五六七八九十]{1,2}|\d{1,2})(?:件事|个事|个问题|件|个)(?:情|儿)?\s*[，,：:]")
_ITEM_REPLY = re.compile(r"^\s*第(?P<nums>[\d一二三四五六七八九十、，,和及至\-~]+)(?:项|条|个问题)[：:，,]?\s*(?P<body>.*)$")
_REPLY_LABEL = re.compile(r"^\s*(?:处理情况|办理情况|处理结果|办理结果|处置情况|处理意见|办理意见|答复意见|回复意见|答复|回复|反馈|处理|处置"
                          r"|處理情況|辦理情況|處理結果|辦理結果|處置情況|處理意見|辦理意見|答覆意見|答覆|回覆|反饋)"
                          r"(?:[（(][^）)]{1,12}[）)])?\s*(?:[：:]|\t+)\s*(?P<body>\S.*)$")
_PLACE_IN_WHO = re.compile(r"[（(](?P<inner>[^）)]{1,12})[）)]")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*[”’」』\"]?")


@dataclass
class Utterance:
    """One turn or item of the notes, original text kept."""

    text: str
    speaker: str | None = None
    speaker_place: str | None = None
    staff: bool = False
    item: int | None = None
    refers_to: tuple[int, ...] = ()
    line: int = 0
    ticket: bool = False
    ref: str | None = None  # a hotline ticket's number, when a pasted table gives it (工单号)
    notice: bool = False
    stamped: bool = False  # a walk log's line that starts with its time: a report of its own, never merged by adjacency
    clock: tuple[int, int] | None = None  # that time ("09:40 …"): when the finding was made, on the record's day
    # the day heading above it in a log kept over several days ("24号周二"): (year, month, day, part of day),
    # year and month None when the heading leaves them out (read against the record's date)
    day: tuple[int | None, int | None, int, str | None] | None = None
    area: str | None = None  # the place heading the lines it is under ("【2号楼】" in an inspection record)
    listed: bool = False  # a bullet or time-stamped line of a log: a report of its own, like a numbered item
    to: str | None = None  # a chat message addressed "@老李头 …": who it answers
    sentences: list[str] = field(default_factory=list)


def _speaker(who: str) -> tuple[str, str | None, bool]:
    """Clean name, place in brackets, and whether the speaker is staff."""
    place = None
    flat = _NICK_FLAT.search(who)
    if flat and _looks_like_speaker(who):  # "老陈 3栋502": 老陈, who lives in 3栋 (where they live, not the problem)
        who = who[:flat.start()]
        place = re.split(r"(?<=[栋幢棟座#])", flat.group("flat"))[0].strip()
        if not re.search(r"[栋幢棟座#]", place):
            place = f"{place.split('-')[0]}栋"  # 8-703 is 8栋 703
    m = _PLACE_IN_WHO.search(who)
    name = who
    if m:
        inner = m.group("inner")
        name = who[:m.start()] + who[m.end():]
        if any(t in inner for t in STAFF_TITLES) and name in ("主持人", "主持", ""):
            name = inner  # 主持人（社区李书记）
        elif re.search(r"\d|[一二三四五六七八九十]", inner) or any(k in inner for k in ("楼", "栋", "单元", "门", "小区", "院")):
            place = inner
    # "网格员巡查：…" / "巡查发现：…" is a problem found on a walk, not a staff answer; "陳經理回應" is 陈经理
    plain = normalize(who)
    # "邓委员提出：…" raises a matter, whoever says it
    staff = any(t in plain for t in STAFF_TITLES) and not re.search(r"巡查|发现|巡检|(?:提出|反映|投诉)$", plain)
    name = re.sub(r"(?<=.{2})(?:回应|回應|答复|答覆|回复|回覆)$", "", name)
    if place is None:
        found = find_places(name)
        place = found[0] if found else None
    if len(name.split()) > 1:  # "2号楼楼栋长 杜建国" → 杜建国 (the place and title are kept above)
        name = name.split()[-1]
    name = re.sub(r"^.*(?:居民|业主|村民|租户|代表)", "", name).strip() or name
    name = re.sub(r"(?:来电)?(?:反映|称|说|投诉)$", "", name) or name  # "来电人反映：…" → 来电人
    title = re.search(_PERSON, name)
    if title:  # "许大爷接过话头" → 许大爷
        name = name[:title.end()]
    return name, place, staff


# "8座 黃先生", "3号楼 王阿姨", "10座 Kelvin", "5号楼 老周": a place, then a person (a title, 老/小, or a Latin name)
_NAMED = re.compile(r"(?P<place>\S{1,16}?)\s+(?P<name>[\u4e00-\u9fff]{1,2}(?:先生|女士|小姐|太太|太|伯|阿姨|大爷|大妈|奶奶"
                    r"|爷爷|师傅|老师|大姐|大哥|姐|哥|叔|婶|姨)|[老小][\u4e00-\u9fff]|[A-Za-z][A-Za-z .]{1,19})")
# a person field that goes on to say what they raised: "8栋住户反映楼道灯坏了…", "8栋覃大爷，楼道灯坏了一个星期"
_PERSON_SAYS = re.compile(r"^(?P<who>[^，,。；;：:（(]{1,16}?)(?:(?:[，,]\s*)?(?:来电)?(?:反映|称|说|投诉|表示)[：:，,]?|[，,])"
                          r"\s*(?P<said>\S.{5,})$")


def _heading_speaker(text: str) -> tuple[str, str | None] | None:
    """(name, place) when an item's whole text names a resident: "8座 黃先生", "10座 Kelvin", "3号楼 王阿姨"."""
    bare = re.sub(r"[（(][^）)]*[）)]", "", normalize(text)).strip()  # "301 何奶奶（独居，82岁）"
    m = _NAMED.fullmatch(bare)
    if not m or re.search(r"[坏漏堵臭吵乱脏停]", m.group("name")):
        return None
    places = find_places(m.group("place"))
    if not places and not re.fullmatch(r"\d{3,4}室?", m.group("place")):  # a flat number names where too
        return None
    name = re.sub(r"[（(][^）)]*[）)]", "", text).strip().split()[-1]
    return name, places[0] if places else None


def _form_person(value: str) -> tuple[str, str | None, bool]:
    """"韩桂芳（女，76岁）" → 韩桂芳; "刘大爷（幸福里小区12号楼，退休教师）" → 刘大爷 of 12号楼; "8栋 覃大爷" → 覃大爷 of 8栋."""
    inner = " ".join(m.group("inner") for m in re.finditer(r"[（(](?P<inner>[^）)]*)[）)]", value))
    outer = re.sub(r"[（(][^）)]*[）)]", " ", value).strip() or value
    name, place, staff = _speaker(re.split(r"[，,；;、]", outer)[0].strip())
    if place and name.startswith(place) and len(name) > len(place):
        name = name[len(place):].strip()  # "8栋覃大爷" → 覃大爷 of 8栋
    inside = find_places(inner) if inner else []
    return name, place or (inside[0] if inside else None), staff


# "垃圾分类站（5栋旁）：厨余桶满溢", "小区中心花园健身器材区：太空漫步机…": a walk log's place, not a speaker
_PERSON_END = re.compile(_PERSON + r"$")
_PLACE_LABEL = re.compile(r"(?:区|场|车棚|车库|地库|间|门口|旁|侧|附近|周边|一带|垃圾站|垃圾房|分类站|中转站|投放点|收集点|健身区|器材区)$")


# a chat nickname with the sender's flat beside it: "阳光明媚-8栋1203", "老陈 3栋502", "小鱼儿 8-703", "Kevin 6栋"
_NICK_FLAT = re.compile(r"(?<=[^\s\d\-—_·])[\s\-—_·]*(?P<flat>\d{1,3}\s*[栋幢棟座#]\s*\d{0,2}-?\d{3,4}|\d{1,3}-\d{1,2}-\d{3,4}"
                        r"|\d{1,3}-\d{3,4}|\d{1,3}\s*[栋幢棟座])$")


# an office, not a person or a place: "物业服务中心", "社区居委会" may name who speaks
_ORG_WORDS = r"社区|街道|物业|居委|管理|服务|办公|派出所|中心"


# what an item's title says is wrong ("14号楼高层水压低", "东区绿化带几棵桂花树枯死"); a name never says it
# ("七号楼二单元王建国" is who spoke)
_TITLE_TROUBLE = re.compile(r"不亮|不通|不热|不足|坏了?|损坏|破损|漏水|渗水|堵|水压|压低|枯死|死了|失灵|开裂|脱落|积水|噪音|扰民|占用"
                            r"|乱停|乱放|乱扔|养鸽|搭棚|违建|鸽棚|异味|冒烟|隐患|纠纷|问题$")


def _looks_like_speaker(who: str) -> bool:
    bare = _NICK_FLAT.sub("", _PLACE_IN_WHO.sub("", who))
    if bare in _META or not bare or re.search(r"\d{3,}", bare):
        return False
    if (len(bare) >= 3 and _PLACE_LABEL.search(bare) and not _PERSON_END.search(bare)
            and not re.search(_ORG_WORDS, bare)):
        return False
    if re.match(r"(?:复查|复核|回查|再查|检查|巡查|查看)(?!员|组|人|队|小组|单位|情况)", bare):
        return False  # "复查11号楼车棚充电桩：还是那3个插口不出电": what a log went back to, then what was found
    if re.fullmatch(r"[\d\s\.\-年月日时分]+", bare) or re.search(r"(?:问题|的事|事项|情况)$", bare):
        return False  # "（一）14号楼水压问题：协助业主申请维修资金…": the matter, then what is done about it
    if (len(bare) >= 8 and not _PERSON_END.search(bare) and _TITLE_TROUBLE.search(bare)
            and not re.search(_ORG_WORDS + r"|代表|居民|业主|楼栋长|楼长|单元长|网格员|书记|主任|\s", bare)):
        return False  # "14号楼高层水压低：…", "东区绿化带几棵桂花树枯死：…": an item's title, then what it is about
    return len(bare) <= 12


def _refs(nums: str) -> tuple[int, ...]:
    out = []
    for part in re.split(r"[、，,和及]", nums):
        if re.fullmatch(r"\d+\s*[-~至]\s*\d+", part):
            a, b = map(int, re.split(r"\s*[-~至]\s*", part))
            out.extend(range(a, b + 1))
        elif part and (n := cn_number(part)) is not None:
            out.append(n)
    return tuple(out)


def sentences(text: str) -> list[str]:
    """Split an utterance into sentences at 。！？； keeping the punctuation."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _split_inline(line: str) -> list[str]:
    """Voice transcripts run speakers together: cut before '王阿姨说' inside a line."""
    cuts = [m.start() for m in _INLINE.finditer(line)
            if m.start() > 0 and not _FLAT_WHO.match(line[:m.start()] + "x")]  # not after "7-803 "
    if not cuts:
        return [line]
    parts, last = [], 0
    for c in cuts:
        if c - last >= 4:
            parts.append(line[last:c])
            last = c
    parts.append(line[last:])
    return [p.strip() for p in parts if p.strip()]


def _split_voice(line: str) -> list[str] | None:
    """Space-separated speaker words in an unpunctuated transcript become 'who：text' pieces."""
    tokens = line.split()
    if len(tokens) < 4 or sum(line.count(p) for p in "，。！？,") > len(tokens) // 2:
        return None
    pieces, who, body = [], None, []
    for tok in tokens:
        if _VOICE_SPEAKER.match(tok) and len(tok) <= 6:
            if body:
                pieces.append(f"{who}：{' '.join(body)}" if who else " ".join(body))
            who, body = tok, []
        else:
            body.append(tok)
    if body:
        pieces.append(f"{who}：{' '.join(body)}" if who else " ".join(body))
    return pieces if sum(":" in p or "：" in p for p in pieces) >= 2 else None


# "[07:45] 3栋王姐：…", "08:30 巡查至2号楼…", "2024-07-08 09:12 …" — a clock is not part of the message.
_STAMP = re.compile(r"^\s*[\[【(（]?\s*(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s*)?\d{1,2}[:：]\d{2}(?:[:：]\d{2})?\s*[\]】)）]?\s*")
# Lines such as "时间：…", "地点：…", "参会人员：…" describe the meeting, they are never problems.
# A name after a staff title in the record's header lines; the titles are STAFF_TITLES plus a header's own.
# "客服主管 宁丹" is one title; "网格员 蔡晓燕、曹勇" names two; "业委会副主任 谭国庆" speaks for the owners.
_HEADER_TITLES = "|".join(STAFF_TITLES + ("干事", "主管", "主持", "记录人", "记录"))
_STAFF_IN_HEADER = re.compile(rf"(?P<org>业委会|业主委员会|業委會)?[\u4e00-\u9fff]?(?:{_HEADER_TITLES})+[\s：:]*"
                              rf"(?P<name>[\u4e00-\u9fff]{{2,3}}(?:、(?!{_HEADER_TITLES})[\u4e00-\u9fff]{{2,3}}(?=$|[\s，,、；;（(）)]))*)"
                              r"(?=$|[\s，,、；;（(）)])")
META_LINE = re.compile(r"^\s*(?:列席|缺席|请假|议题[一二三四五六七八九十\d]*|议程|时间|日期|地点|地址|参会人员|参加人员|出席人员|参会|参加|出席|记录人|记录|主持人?|群名称|导出时间|承办单位|巡查人|网格|天气|来源|作者|编辑"
                       # what transcription apps put above the text: file, length, keywords, their own summary
                       r"|文件名|转写时间|转写结果|音频时长|录音时长|会议时长|时长|关键词|摘要|智能纪要|章节|文字记录|发言人数|说话人数)\s*[：:]")
_SECTION = re.compile(r"^\s*[一二三四五六七八九十]{1,3}\s*[、.．]\s*[^，。！？,!?：:；;]{2,12}\s*$")
# A form, a duty log or a visit record names the person on a field of its own, then what they said:
# "来电人：8栋 覃大爷" / "内容：……", or pasted from a Word table with tabs: "走访对象\t韩桂芳（女，76岁）" /
# "住址\t5号楼1单元302" / "反映诉求\t……" / "处理意见\t……". Fields about the household are not problems.
_FIELD = re.compile(r"^\s*(?P<label>[\u4e00-\u9fff]{2,6})\s*(?:[：:]|\t+|\u3000+|\s{2,})\s*(?P<value>\S.*)$")
_FIELD_PERSON = {"来电人", "来访人", "来电", "来访", "反映人", "走访对象", "来访对象", "来访者", "受访人", "受访对象",
                 "被走访人", "户主", "当事人", "诉求人", "提出人", "通报人"}
_FIELD_PLACE = {"住址", "家庭住址", "居住地址", "现住址", "地址", "房号", "门牌号"}
_FIELD_SAID = {"内容", "来电内容", "来访内容", "反映内容", "诉求", "诉求内容", "问题", "反映诉求", "反映问题", "事由",
               "来访事由", "主要诉求", "群众诉求", "居民诉求", "存在问题", "问题描述", "反映", "反映情况", "来访事项"}
_FIELD_OTHER = {"家庭情况", "家庭成员", "健康状况", "身体状况", "序号", "编号", "走访人", "走访日期", "走访时间", "走访片区",
                "走访方式", "接待人", "接待时间", "走访小结", "接待小结", "巡查小结", "小结", "备注", "年龄", "性别", "民族",
                "工作单位", "人员类别", "户籍", "户籍地", "家庭类型", "困难类型", "政治面貌", "身份证号", "交接人", "接班人",
                "巡查时间", "巡查人员", "巡查路线", "检查时间", "检查人员", "联系电话", "电话", "联系方式",
                "走访范围", "走访区域", "巡查范围", "接待人", "接待时间",
                # who is to handle it and by when: a joint meeting's form, not anyone's words
                "责任单位", "责任主体", "责任部门", "责任人", "承办单位", "牵头单位", "配合单位", "协办单位", "办理时限",
                "完成时限", "时限要求",
                # minutes of a vote: the members' views on a proposal and the result, not new problems
                "讨论", "讨论情况", "表决", "表决结果", "决议", "会议决定", "议定"}
# What a section title ends with ("一、居民来访接待", "三、其他事项", "二、近期居民反映问题")
_SECTION_TITLE = re.compile(r"(?:情况|事项|接待|来访|发言|讨论|议题|汇报|汇总|通报|安排|其他|问题|部署|总结|议程|意见|建议|说明|诉求|需求)\s*[：:]?\s*$")
# "（二）保洁与保安", "（一）地下车库": a sub-heading naming a topic, not a problem (no word of trouble in it)
_TOPIC_HEADING = re.compile(r"^\s*[（(][一二三四五六七八九十]{1,3}[)）]\s*[\u4e00-\u9fff、与和及]{2,7}\s*$")
_TROUBLE = re.compile(r"[坏漏堵臭吵乱占停没不缺满破断松难差贵慢脏掉塌裂锈]")
# Announcements, and also what was done or decided: "上月议定事项落实情况", "四、议定事项" list actions,
# "一、物业本周工作汇报" the 物业's own work, not new problems
_HEADING_NOTICE = re.compile(r"通报|通知|提示|公告|告知|下一步|工作安排|任务分解|任务分工|责任分工|整改要求|整改意见|整改复核|问题复核|回头看|注意事项|落实情况|完成情况|办理情况|进展情况|议定事项|决定事项|会议决定"
                             r"|工作汇报|工作总结|工作报告|工作情况|本周工作|上周工作|本月工作"
                             r"|已办结|已解决|已完成|已销号|已整改|(?<![未没不])办结事项|仅备查")  # "二、已办结事项（仅备查）": closed already
_HEADING_ISSUES = re.compile(r"问题|说事|反映|意见|诉求|议事|建议|巡查|报事|报修|投诉")
# "二、本周业主报事汇总（客服何丽汇报）": who reported it, in brackets after the title, is not part of it
_HEADING_ASIDE = re.compile(r"\s*[（(][^（()）]{0,12}(?:汇报|记录|整理|报告|提供|主讲|发言)[)）]\s*$")


def _heading(line: str) -> str | None:
    """'notice' or 'issues' for a short section heading such as '二、通报事项', else None."""
    bare = _NUMBERED.sub(lambda m: m.group("body"), line).strip().rstrip("：:")
    if len(bare) > 14 or re.search(r"[，。！？,!?；;：:]", bare):
        return None
    if _HEADING_NOTICE.search(bare) and not (re.search(r"问题|反映|诉求", bare)
                                             and not re.search(r"落实|完成|办理|办结|解决|整改|进展", bare)):
        return "notice"  # "一、本周工作中发现的问题" lists problems, "上月问题整改落实情况" does not
    if _HEADING_ISSUES.search(bare):
        return "issues"
    return None


# Chat exports put the sender on a line of their own, with the time before or after it:
# "2025-07-08 07:31  3栋1801-小鱼儿" or "【居民】18栋-老周 08:05"; the message follows on the next lines.
_CHAT_TIME = r"(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s+)?\d{1,2}[:：]\d{2}(?:[:：]\d{2})?"
_CHAT_SENDER = re.compile(rf"^\s*(?:{_CHAT_TIME}\s+(?P<flat>\d{{1,3}}-\d{{1,2}}-\d{{3,4}}\s+)?(?P<a>[^\s，。！？!?：:]{{1,24}})"
                          rf"|(?P<tag>[【\[][^】\]]{{1,6}}[】\]])?\s*(?P<room>\d{{1,3}}-\d{{1,2}}-\d{{3,4}}\s+)?"
                          rf"(?P<b>(?:未知)?(?:说话人|发言人|讲话人|[Ss]peaker)\s\d{{1,2}}"
                          # "7栋 晴天 09:47", "小雨妈妈 7-2-1101 09:52": a place or flat beside the name
                          rf"|[^\s，。！？!?：:【\[]{{1,24}}(?:\s[^\s，。！？!?：:【\[]{{1,12}}){{0,2}})\s+{_CHAT_TIME})\s*$")
_CHAT_QUOTE = re.compile(r"^\s*[\[【「]?\s*(?:引用|回复|回覆)\s*[:：]?\s*\S{1,24}?[：:]")
# A log kept over several days heads each day: "11月23日（周一）", "24号周二", "25日（周三）上午",
# "2026-11-24", "—— 11月26日 ——"; what follows it, up to the next one, was found that day.
_DAY_HEAD = re.compile(
    r"^[\s—\-=－_~～【\[（(]*(?:(?:(?P<y>20\d\d)\s*[年/.\-]\s*)?(?P<m>1[0-2]|0?[1-9])\s*(?P<sep>[月/.\-])\s*"
    r"(?P<d>3[01]|[12]\d|0?[1-9])\s*(?P<suffix>[日号號])?|(?P<d2>3[01]|[12]\d|0?[1-9])\s*[日号號])"
    r"\s*[）)】\]]?\s*(?P<week>[（(]?(?:星期|周|週|礼拜|禮拜)[一二三四五六日天][）)]?)?\s*(?P<part>上午|下午|晚上|早上|中午)?"
    r"[\s—\-=－_~～）)】\]：:]*$")
# "【2号楼】", "[车棚]", "■ 5号楼", "〔垃圾站〕": a place alone on a line, heading the findings made there
_AREA_HEAD = re.compile(r"\s*(?:[【\[〔［]\s*(?P<a>[^】\]〕］]{2,10}?)\s*[】\]〕］]|[■□◆◇▶►●]\s*(?P<b>[^\s，。：:]{2,10}))\s*[：:]?\s*")


def day_heading(line: str) -> tuple[int | None, int | None, int, str | None] | None:
    """(year, month, day, part of day) of a line that only heads a day of a log ("24号周二", "25日（周三）上午",
    "—— 11月26日 ——"); year and month None when it leaves them out. None for any other line."""
    head = _DAY_HEAD.fullmatch(normalize(line)) if len(line.strip()) <= 24 else None
    if head is None:
        return None
    if head["m"] and not (head["y"] or head["sep"] == "月" or head["suffix"] or head["week"]):
        return None  # "12-1", "7-2", "1.2" alone: a flat, a building, a list number; "11.24（周二）" is a day
    return (int(head["y"]) if head["y"] else None, int(head["m"]) if head["m"] else None,
            int(head["d"] or head["d2"]), head["part"])


# "2024-07-08 09:12 …": a log line that starts with its own date
_DATED_LINE = re.compile(r"^\s*[\[【(（]?\s*(?P<y>20\d\d)[-/.年](?P<m>1[0-2]|0?[1-9])[-/.月](?P<d>3[01]|[12]\d|0?[1-9])(?!\d)")
# What a chat export puts where a photo, a video or a voice note was: "[图片]", "[视频]", "[语音]"
_MEDIA = re.compile(r"[\[【](?:图片|圖片|视频|視頻|语音|語音|表情|动画表情|文件|链接|位置|红包|转账|小程序|聊天记录"
                    r"|Photo|Video|Voice|Sticker|Image)[\]】]")
_DAY_RULE = re.compile(r"^[—\-=－_~～\s]{2,}\s*(?:\d{4}\s*[年/.\-]\s*)?\d{1,2}\s*[月/.\-]\s*\d{1,2}\s*日?\s*(?:星期.|周.)?"
                       r"\s*[—\-=－_~～\s]*$")
_AT = re.compile(r"^(?:@\S{1,24}\s*)+|^\s*[\[【](?:语音转文字|语音转文本|转文字|语音)[\]】]\s*")
# A transcription app cuts one speaker's turn into segments; a segment that does not end a sentence
# goes on in the next one from the same speaker, unless that opens a new matter ("还有…").
_ENDS_SENTENCE = re.compile(r"[。！？!?…~～）)”」\]】\U0001F300-\U0001FAFF\u2600-\u27BF]\ufe0f?\s*$")  # an emoji ends a message too
_OPENS_MATTER = re.compile(r"^(?:还有|另外|另一个|再说个|我再说|对了|还想说|第[二三四五六七八九十\d]|\d{1,2}\s*[.、．)）](?!\d))")


# What the chat app itself writes: '"王哥"撤回了一条消息', 'xx邀请yy加入了群聊', 'xx拍了拍yy'
_CHAT_SYSTEM = re.compile(r"撤回了一条消息|邀请.{1,40}加入了?群聊|加入了群聊|退出了群聊|移出了?群聊|拍了拍|修改群名为"
                          r"|以上是历史消息|以下是新消息|与群里其他人都不是(?:微信)?朋友关系")


def _chat_sender(line: str) -> tuple[str, str | None, bool] | None:
    """(name, place, staff) of a chat export's sender line, else None."""
    if _CHAT_SYSTEM.search(line):
        return None
    m = _CHAT_SENDER.match(line)
    if not m:
        return None
    who, tag = m.group("a") or m.group("b"), m.group("tag") or ""
    if re.fullmatch(r"[\d\s:：.\-/年月日]+", who):
        return None
    tokens = who.split()
    if len(tokens) > 1 and not _NUMBERED_VOICE.match(who):  # "7栋 晴天", "小雨妈妈 7-2-1101", "Amy 6-3"
        flats = [t for t in tokens if re.fullmatch(r"\d{1,3}(?:-\d{1,4}){1,2}", t)]
        spots = [t for t in tokens if t not in flats and find_places(t) == [t]]
        names = [t for t in tokens if t not in flats and t not in spots]
        if len(names) != 1:
            return None  # words with spaces before a time: not a sender line
        where = spots[0] if spots else (
            "{}号楼{}单元".format(*flats[0].split("-")[:2]) if flats else None)
        staff = any(t in who or t in tag for t in STAFF_TITLES) or any(t in tag for t in ("社区", "居委"))
        return names[0], where, staff
    head, _, nick = who.rpartition("-")
    places = find_places(head or who)
    room = (m.group("room") or m.group("flat") or "").strip()  # "2024-09-02 07:15 12-1-1801 老赵"
    if room and not places:  # "8-1-201 陈姐 07:12": building 8, unit 1, flat 201
        building, unit, _ = room.split("-")
        places = [f"{building}号楼{unit}单元"]
    staff = any(t in who or t in tag for t in STAFF_TITLES) or any(t in tag for t in ("社区", "居委"))
    return (nick or who), (places[0] if places else None), staff


# The first line of a record naming what follows: "9月份楼里的事", "本周巡查情况", "居民诉求汇总"
_TITLE_LINE = re.compile(r"(?:的事|的事情|的事儿|情况|汇总|记录|清单|纪要|台账|明细|登记表?|一览)[：:]?\s*$")
_RESOLVED = re.compile(r"确认(?:已经?)?(?:恢复|正常|解决|修好)|已恢复正常|当场(?:解决|修好|处理好)|问题已解决|已解决|处理完毕|维修完毕|已修复|已修好")
# "物业称已修复，居民反映下雨还是渗水": said fixed, but still not
_STILL_OPEN = re.compile(r"未办结|未解决|未完成|未整改|未修复|仍有|仍在|仍未|仍然|继续跟进|持续跟进|跟进中|办理中|正在办理"
                         r"|但|可是|还是|又|不满意|不认可|反映")
_TABLE_SAID = _FIELD_SAID | {"事项", "议定事项", "反映事项", "诉求内容", "来电诉求", "问题内容", "工单内容", "反映问题", "问题及诉求", "具体问题", "情况描述"}
_TABLE_REPLY = {"办理情况", "处理情况", "处理结果", "办理结果", "处置情况", "处理意见", "办理意见", "答复", "回复", "答复意见",
                "回复内容", "答复内容", "反馈", "办理反馈", "回访情况"}
_TABLE_WHO = {"来电人", "反映人", "姓名", "诉求人", "来访人", "提出人"}
_TABLE_NUMBER = {"序号", "编号"}
_TABLE_REF = {"工单号", "工单编号", "单号", "受理编号", "工单"}


def _cells(line: str) -> list[str]:
    """A pasted table row's cells: tabs from Excel, or pipes from a system export or a Markdown table
    ("5|HT2412120044|12-12 19:40|暖气片摸着冰凉…|荷塘雅居11号楼|已转热力公司", "| 序号 | 诉求内容 |")."""
    if "\t" in line.strip():
        return [c.strip() for c in line.split("\t")]
    if len(re.findall(r"[|｜]", line)) >= 2:
        cells = [c.strip() for c in re.split(r"[|｜]", line.strip())]
        return cells[1 if not cells[0] else 0:-1 if not cells[-1] else None]
    return [line.strip()]


def _table_header(cells: list[str]) -> dict | None:
    """The columns of a pasted table's header row (tabs between cells): where the problem, the reply, who
    raised it, the row number and the ticket number are. None unless one column holds the problem."""
    names = [re.sub(r"\s", "", c) for c in cells]
    find = lambda labels: next((i for i, c in enumerate(names) if c in labels), None)
    said = find(_TABLE_SAID)
    if said is None or sum(bool(c) for c in names) < 3:
        return None
    return {"said": said, "reply": find(_TABLE_REPLY), "who": find(_TABLE_WHO), "number": find(_TABLE_NUMBER),
            "ref": find(_TABLE_REF)}


def _table_row(cells: list[str], table: dict, n: int, seen: int) -> list[Utterance]:
    """One row of a pasted table: the problem as a ticket of its own, and the reply given to it."""
    cell = lambda column: cells[table[column]] if table[column] is not None and table[column] < len(cells) else ""
    said = cell("said")
    if not re.search(r"[\u4e00-\u9fff]{2}", said):
        return []
    number, ref = cell("number"), cell("ref")
    item = int(number) if number.isdigit() else 1000 + seen  # a row without its own number still stands alone
    rows = [Utterance(text=said, speaker=cell("who") or "来电人", item=item, line=n, ticket=True,
                      ref=ref if len(ref) >= 6 else None)]  # a short number is a row number, not a ticket
    reply = cell("reply")
    if re.search(r"[\u4e00-\u9fff]{2}", reply):
        rows.append(Utterance(text=reply, staff=True, refers_to=(item,), line=n))
    return rows


def split_utterances(text: str) -> list[Utterance]:
    """Turn raw notes into utterances with speaker, staff flag, item numbers and sentences."""
    out: list[Utterance] = []
    notice = False
    staff_names: set[str] = set()
    items: set[int] = set()  # item numbers seen so far
    sender: tuple[str, str | None, bool] | None = None  # of a chat export: applies to the lines below it
    segment_line = -1  # the line of the last sender's segment, to tell a cut turn from a new one
    pending: tuple[str, str | None, bool] | None = None  # the person of a form or duty-log entry
    entry: int | None = None  # that entry's number, when the person's line is numbered
    heading: tuple[str, str | None, int] | None = None  # "（一）8座 黃先生": the speaker of the lines below, and the item
    table: dict | None = None  # the columns of a table pasted with tabs (Excel), while its rows go on
    days: list[tuple[int, tuple]] = []  # (line, day) of each day heading, in order
    areas: list[tuple[int, str | None]] = []  # (line, place) of each place heading; None where a section ends it
    lines = text.splitlines()
    first = next((i for i, raw in enumerate(lines, 1) if raw.strip()), 0)  # the record's first line: maybe its title
    for n, raw_line in enumerate(lines, 1):
        dated = _DATED_LINE.match(raw_line)
        if dated:  # "2024-09-02 07:15 老赵" or "2024-07-08 09:12 巡查…": that day, from this line on
            days.append((n, (int(dated["y"]), int(dated["m"]), int(dated["d"]), None)))
        chat = _chat_sender(strip_pinyin(raw_line))
        if chat is not None:
            sender = chat
            continue
        if sender is not None and re.fullmatch(r"\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?\s*", raw_line):
            # "00:00:48" alone: the transcription app could not tell whose voice this is, so it is nobody's yet
            # (not the speaker above it), and a segment of its own
            sender, segment_line = (None, None, False), -1
            continue
        if sender is not None and _CHAT_QUOTE.match(raw_line):
            continue  # "[引用 6栋-阿飞：……]" repeats an earlier message; the reply is on its own line
        line = _MEDIA.sub("", _STAMP.sub("", strip_pinyin(raw_line))).strip()
        if not line and _MEDIA.search(raw_line):
            continue  # a chat message that is only a photo or a voice note: nothing to read, and no break
        if not line:
            pending = entry = None  # a blank line ends a form's or a duty log's entry
            continue
        area = _AREA_HEAD.fullmatch(normalize(line))
        spot = (area.group("a") or area.group("b")) if area else None
        if spot and find_places(spot) == [spot]:
            areas.append((n, spot))  # "【2号楼】": what follows, up to the next heading, is found there
            continue
        if _SECTION.match(normalize(line)):
            areas.append((n, None))
        head = day_heading(line) if sender is None else None  # a chat's days come from its sender lines
        if head and n != first:  # the record's first line is its own date (meeting_date reads it)
            days.append((n, head))
            pending = entry = None
            continue
        cells = _cells(raw_line)
        if table is not None and cells and all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            continue  # "|---|---|" under a Markdown table's header
        if len(cells) >= 3:
            head = _table_header(cells)
            if head is not None:  # "序号\t工单号\t来电时间\t诉求内容\t办理情况": a table copied from Excel
                table = head
                continue
            if table is not None and len(cells) >= table["said"] + 1:
                rows = _table_row(cells, table, n, len(out))
                # under "上月议定事项办理情况" a row still open ("未办结，…仍有车辆停放") is a problem still
                reply = " ".join(u.text for u in rows if u.staff)
                if _RESOLVED.search(reply) and not _STILL_OPEN.search(reply):
                    continue  # a call register's row settled on the phone ("…来电人确认已恢复"): nothing to follow up
                if not notice or _STILL_OPEN.search(reply):
                    out.extend(rows)  # a closed row is for reference: neither it nor its 办理情况 is read
                continue
        elif table is not None and len(cells) < 2:
            table = None  # the table ended: "备注：…" below it is the record's own text
        if n == first and _TITLE_LINE.search(normalize(line)) and len(line) <= 30 and n < len(lines):
            continue  # "2#楼 楼长周桂芳 9月份楼里的事" heads the list below it
        if _DAY_RULE.match(line):  # "—————— 2024年11月23日 ——————" separates a chat export's days
            if (head := day_heading(line)) and n != first:
                days.append((n, head))
            continue
        if len(line) <= 60 and _CHAT_SYSTEM.search(line) and not _SPEAKER.match(line):
            continue  # '"王哥"撤回了一条消息'; "王阿姨：昨晚有人拍了拍我家门就跑" is speech
        if sender is not None and _STAMP.match(raw_line) and _SPEAKER.match(line):
            sender = None  # "09:31 王哥：……": this export names the sender on each message's own line
        if META_LINE.match(normalize(line)):
            # "主持：社区居委会主任 严慧芳", "列席：物业经理 卜志强，网格员 熊磊": later "严慧芳：" lines are staff
            staff_names.update(name for m in _STAFF_IN_HEADER.finditer(line) if not m.group("org")
                               for name in m.group("name").split("、")
                               if not re.search(r"(?:大爷|大妈|阿姨|奶奶|爷爷|师傅|大姐|大哥|叔|婶)$", name))
            continue
        if sender is not None:
            body = _AT.sub("", line).strip() or line
            at = re.match(r"@(\S{1,24}?)(?:\s|$)", line)
            name, place, staff = sender
            last = out[-1] if out else None
            if (last is not None and last.speaker == name and last.line == segment_line
                    and not _ENDS_SENTENCE.search(last.text) and not _OPENS_MATTER.match(normalize(body))):
                last.text = f"{last.text} {body}"  # the same turn, cut by the app
                segment_line = n
                continue
            segment_line = n
            u = Utterance(text=body, speaker=name, speaker_place=place, staff=staff or name in staff_names, line=n,
                          to=at.group(1) if at else None)
            if u.staff:
                staff_names.add(name)
            out.append(u)
            continue
        titled = _HEADING_ASIDE.sub("", normalize(line))
        kind = _heading(titled)
        if kind:  # items under "通报事项" are announcements to residents, not problems
            notice = kind == "notice"
        elif notice and _SECTION.match(titled):
            notice = False  # "二、楼栋长发言": the announcements are over
        if _SECTION.match(titled) and _SECTION_TITLE.search(titled) and not re.search(r"\d", line):
            continue  # "一、居民来访接待" names the section; what was raised is in its lines ("一、东门道闸坏了" is not a title)
        numbered = _NUMBERED.match(line)
        field_ = _FIELD.match(_STAMP.sub("", numbered.group("body")) if numbered else line)
        label = normalize(field_.group("label")) if field_ else ""  # 來訪人 is 来访人
        if label in _FIELD_PERSON:  # "来电人：8栋 覃大爷" / "3. 10:40 来电人：…" / "走访对象\t韩桂芳（女，76岁）" heads an entry
            value = field_.group("value")
            entry = cn_number(numbered.group("n1") or numbered.group("n2") or numbered.group("n3")) if numbered else None
            told = _PERSON_SAYS.match(value)
            if told:  # "来电：8栋住户反映楼道灯坏了…", "来电人：8栋覃大爷，反映…": the person and what they said
                pending = _form_person(told.group("who"))
                name, place, staff = pending
                out.append(Utterance(text=told.group("said"), speaker=name, speaker_place=place, staff=staff, line=n,
                                     item=entry, listed=True, notice=notice))
                if entry is not None:
                    items.add(entry)
            else:
                pending = _form_person(value)
            continue
        if label in _FIELD_PLACE:  # "住址\t5号楼1单元302": where that person lives
            places = find_places(field_.group("value"))
            if pending is not None and places:
                pending = (pending[0], places[0], pending[2])
            continue
        if label in _FIELD_OTHER:
            continue
        if label in _FIELD_SAID:  # what the person of the entry said (a form's own problem field without one)
            name, place, staff = pending or (None, None, False)
            # "反映人：社区民警 杜警官" / "问题描述：车棚电瓶被盗3起": a problem raised, whoever raised it
            staff = staff and label == "内容"
            out.append(Utterance(text=field_.group("value"), speaker=name, speaker_place=place, staff=staff, line=n,
                                 item=entry, listed=True, notice=notice))
            if entry is not None:
                items.add(entry)
            continue
        if kind or _SECTION.match(normalize(line)):
            heading = None
        if _TOPIC_HEADING.match(line) and not _TROUBLE.search(line):
            heading = None
            continue
        # "08:50 柳岸花园4栋1单元，…": each line of a walk log that starts with its time is an entry of its own
        stamped = sender is None and bool(_STAMP.match(raw_line)) and bool(re.search(r"\d[:：]\d", raw_line[:12]))
        at = re.match(r"^\s*[\[【(（]?\s*(\d{1,2})\s*[:：]\s*(\d{2})(?![:：]\d)", raw_line) if stamped else None
        if at is None and sender is None:  # "1. 10:20 东湖花园8栋地下车库入口有人飞线充电": a numbered log line's time
            at = re.match(r"^\s*\d{1,2}\s*[.、．)）]\s*(\d{1,2})\s*[:：]\s*(\d{2})(?![:：]\d)", raw_line)
        for u in (r for piece in _split_voice(line) or _split_inline(line) for r in _read_out(_utterance(piece, n))):
            if stamped and u.speaker is None and not u.staff and u.item is None and not u.refers_to:
                u.stamped = True
            if at and int(at.group(1)) < 24:
                u.clock = (int(at.group(1)), int(at.group(2)))
            if (u.item is not None or u.listed) and u.speaker is None and not u.staff:
                who = _heading_speaker(u.text)
                if who is not None:  # "（一）8座 黃先生": what follows, up to the next such line, is theirs
                    heading = (*who, u.item)
                    continue
            if heading is not None and u.speaker is None and not u.staff and u.item is None and not u.refers_to:
                u.speaker, u.speaker_place, u.item = heading
                u.listed = False  # a line of the resident's turn, not a log entry of its own
            elif pending is not None and u.speaker is None and not u.staff and not u.refers_to:
                u.speaker, u.speaker_place = pending[0], pending[1]  # "来访人：林老太太" … her letter, copied below
            if u.refers_to and u.refers_to != (-1,) and not items & set(u.refers_to):
                # "第1条：……" with no item 1 above it numbers a message (a voice memo, a chat export);
                # only under a numbered list is it the answer to that item
                u = Utterance(text=u.text, item=u.refers_to[0], line=n)
            if u.item is not None and not u.staff:
                items.add(u.item)
            u.notice = notice
            if (u.speaker is None and not u.staff and out and out[-1].staff and out[-1].line < n
                    and _ORDINAL_MATTER.match(line)):
                # "主持人：今天先通报两件事。" then "第二件事，…": the host's own items, not residents' problems
                u.speaker, u.staff, u.item = out[-1].speaker, True, None
            if u.speaker and u.staff:
                staff_names.add(u.speaker)
            elif u.speaker in staff_names:  # "孙晓东（社区主任）" once, then just "孙晓东"
                u.staff = True
            out.append(u)
            if u.speaker or re.search(r"[：:]\s*$", line) or re.match(r"\s*[（(][一二三四五六七八九十\d]{1,3}[)）]", line):
                areas.append((n + 1, None))  # a speaker, a lead-in ("居民来电反映：") or a sub-heading ends a place heading
    _find_host(out)
    marks = _running_days(days)
    for u in out:
        u.sentences = sentences(u.text)
        u.day = next((day for at, day in reversed(marks) if at <= u.line), None)
        u.area = next((place for at, place in reversed(areas) if at <= u.line), None)
    return [u for u in out if u.sentences]


def _running_days(days: list[tuple[int, tuple]]) -> list[tuple[int, tuple]]:
    """Day headings with the month carried from the heading before ("11月30日" … "1号" is 12月1日)."""
    out = []
    year = month = last = None
    for at, (y, m, d, part) in days:
        if m is not None:  # "12月30日" … "1月2日": the next year, when the year is known
            year, month = (y if y is not None else year if year is None or m >= month
                           else year + 1), m
        elif month is not None and last is not None and d < last:
            year, month = (year + 1 if year else None, 1) if month == 12 else (year, month + 1)
        last = d
        out.append((at, (year, month, d, part)))
    return out


_NUMBERED_VOICE = re.compile(r"^(?:未知)?(?:说话人|发言人|讲话人|[Ss]peaker)\s*\d+$")


def _find_host(out: list[Utterance]) -> None:
    """A transcription app names voices "说话人1", "说话人2"…, so nobody is known as staff. The host of a meeting
    speaks first or second, answers most of the others and takes at least a third of the turns: that voice is
    staff. Only when no voice is known as staff already and at least three others speak."""
    named = [u for u in out if u.speaker]
    turns = [u for u in named if _NUMBERED_VOICE.match(u.speaker)]  # not the app's "录音文件：…" header
    if len(turns) < 6 or len(turns) < 0.8 * len(named) or any(u.staff for u in named):
        return
    counts: dict[str, int] = {}
    for u in turns:
        counts[u.speaker] = counts.get(u.speaker, 0) + 1
    host, many = max(counts.items(), key=lambda kv: kv[1])
    if len(counts) < 4 or many < len(turns) / 3 or host not in {u.speaker for u in turns[:2]}:
        return
    after_others = sum(1 for a, b in zip(turns, turns[1:]) if b.speaker == host and a.speaker != host)
    if after_others * 2 < many:
        return  # not answering the others: one resident who talks a lot
    for u in turns:
        if u.speaker == host:
            u.staff = True


# A host reading out what a resident reported: "第三条，8号楼楼长史红报的：保洁只扫主路……"
_READ_OUT = re.compile(r"(?:^|(?<=[。！？!?；;]))\s*(?:第(?P<n>[\d一二三四五六七八九十]{1,3})[条项个][，,、：:]?\s*)?"
                       r"(?P<who>[^：:，,。！？]{2,16}?)(?:报的|报上来的|反映的|提的|提出的)[：:，,]\s*(?P<body>\S.{5,})$")


def _read_out(u: Utterance) -> list[Utterance]:
    """A staff turn that reads out a resident's report becomes that resident's turn (after whatever
    the host said before it: "记下了。第三条，8号楼楼长史红报的：……")."""
    m = _READ_OUT.search(u.text) if u.staff else None
    if not m:
        return [u]
    name, place, staff = _speaker(m.group("who"))
    if staff:
        return [u]
    item = cn_number(m.group("n")) if m.group("n") else u.item
    before = u.text[:m.start()].strip()
    read = Utterance(text=m.group("body"), speaker=name, speaker_place=place, item=item, line=u.line)
    return ([Utterance(text=before, speaker=u.speaker, speaker_place=u.speaker_place, staff=True, line=u.line)]
            if before else []) + [read]


# An owners' group pasted as "9-502 老陈：又停电了" or "3-2-301 小刘：…": the flat first, then the speaker
_FLAT_WHO = re.compile(r"^(?P<flat>\d{1,3}(?:-\d{1,4}){1,2})\s+(?P<rest>[^\d\s].*)$")


# "钱阿姨（4号楼，电话13812345678）：…": the speaker's aside with a comma and a phone number
_ASIDE_IN_WHO = re.compile(r"^(?P<who>\s*[\u4e00-\u9fff]{1,8})[（(](?P<inner>[^（）()：:]{1,40})[）)](?P<colon>\s*[：:])")


def _tidy_aside(m: re.Match) -> str:
    inner = re.sub(r"[，,、\s]*(?:联系)?(?:电话|手机|手机号)?[：:]?\s*1[3-9]\d{9}", "", m.group("inner"))
    inner = re.sub(r"[，,、]\s*", " ", inner).strip()[:12]  # the 住址 stays for speaker_place; no phone in a name
    return f"{m.group('who')}（{inner}）{m.group('colon')}" if inner else f"{m.group('who')}{m.group('colon')}"


def _utterance(line: str, n: int) -> Utterance:
    line = _ASIDE_IN_WHO.sub(_tidy_aside, line, count=1)
    flat = _FLAT_WHO.match(line.strip())
    if flat:
        inner = _utterance(flat.group("rest"), n)
        if inner.speaker and not inner.ticket and inner.item is None:
            # where they live is not taken for where their remark is: "8-1-302 陈姐：高空抛物太吓人了" is about 2栋
            return inner
    plain = normalize(line)
    m = _ITEM_REPLY.match(line)
    if m and m.group("body"):
        return Utterance(text=m.group("body"), refers_to=_refs(m.group("nums")), staff=True, line=n)
    m = _REPLY_LABEL.match(line)
    if m:  # "处理情况：已派单物业……" answers the item just above it
        return Utterance(text=m.group("body"), staff=True, refers_to=(-1,), line=n)
    m = _TICKET.match(line)
    if m and m.group("body"):
        num = re.search(r"\d+", m.group("tag"))
        return Utterance(text=m.group("body"), speaker="来电人", item=int(num.group()) if num else None, line=n, ticket=True)
    m = _ORDINAL_MATTER.match(line)
    if m:  # "第一件事，我们6号楼楼顶上…": a letter's paragraph about one matter, said whole
        inner = Utterance(text=line, line=n)
        inner.item = cn_number(m.group("n"))
        return inner
    m = _NUMBERED.match(line)
    if m:
        num = m.group("n1") or m.group("n2") or m.group("n3")
        inner = _utterance(m.group("body"), n)
        inner.item = cn_number(num)
        return inner
    m = _BULLET.match(line)
    if m:
        inner = _utterance(m.group("body"), n)
        if inner.speaker is None and not inner.staff and not inner.refers_to:
            inner.listed = True
            return inner
        if not re.match(r"\s*(?:上午|下午|晚上|早上)?\d", line):
            return inner  # "· 张阿姨：……" is a turn, bullet or not
        # "08:20 来电人：……" is a duty-log caller line: read whole below
    m = _SAYS.match(line)
    if m:
        name, place, staff = _speaker(m.group("who"))
        return Utterance(text=m.group("body"), speaker=name, speaker_place=place, staff=staff, line=n)
    m = _SPEAKER.match(line)
    if (m and _looks_like_speaker(m.group("who")) and not plain.startswith(("http", "www"))
            and not (m.group("who")[-1].isdigit() and m.group("body")[:1].isdigit()  # "上午9:00"
                     and not re.match(r"(?:说话人|发言人|讲话人|参会人)\s*\d", m.group("who"))  # "说话人5：8号楼…"
                     and not _NICK_FLAT.search(m.group("who")))):  # "老陈 3栋502：602又开始了"
        name, place, staff = _speaker(m.group("who"))
        return Utterance(text=m.group("body"), speaker=name, speaker_place=place, staff=staff, line=n)
    return Utterance(text=line, line=n)
