"""Meeting notes → distinct issues for the problem ledger (问题台账).

Steps: drop web-page noise → split into utterances and sentences → learn which sentences
raise a problem (the role model) → group a speaker's sentences into mentions → merge
mentions of the same problem at the same place → attach staff replies as responses.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .model import Model, json_ready
from .normalize import normalize, strip_pinyin
from .places import cn_number, find_places, place_keys, places_conflict
from .route import community_time, route
from .segment import words
from .utterances import Utterance, day_heading, split_utterances

__all__ = ["Issue", "extract", "meeting_date", "strip_web_noise"]

_NOISE_LINE = re.compile(
    r"^\s*[【\[（(]?(?:责任编辑|编辑|来源|作者|记者|通讯员|版权所有|Copyright|©|分享到|上一篇|下一篇|扫一扫|打印|关闭窗口"
    r"|返回顶部|点击|阅读原文|原标题|阅读\s*\d|浏览|字号|免责声明)", re.IGNORECASE)
# Everything after these markers on a pasted web page is other articles or comments.
_TAIL_MARKER = re.compile(r"^\s*[【\[]?(?:相关推荐|相关阅读|相关新闻|热门推荐|推荐阅读|猜你喜欢|延伸阅读|网友评论|发表评论|评论区|我要评论|最新评论|热门评论)")
# Reporting phrases that mark a sentence as a problem raised, whatever the role model says.
_RAISED = re.compile(r"^[“\"]?(?:另有|还有|也有|有)?(?:[\u4e00-\u9fff]{0,6}的)?(?:居民|业主|群众|村民|住户)(?:代表)?[\u4e00-\u9fff]{0,4}?(?:反映|提出|投诉|反馈)"
                     r"|^[“\"]?(?:来电人|市民|来电市民)(?:来电)?(?:反映|称|投诉)|^[“\"]?巡查(?:中)?发现")
# A follow-up that points back at an earlier problem ("纸箱的事我再说一句", "5单元也是一样").
_REPEAT = re.compile(r"再说一句|再补一句|再补充|还是那个|还是上次|上次说的|之前说的|上个月就说|又来了|我再说"
                     r"|还是没|还是不|仍然|依然|到现在还|至今还|还没")
# A speaker pointing back at their own earlier problem
_MY_OWN = re.compile(r"我(?:刚才|刚刚|前面|上回|昨天|一开始|开头)(?:说|讲|提|反映)(?:的|过的)")
# Words that mark a problem raised again, by anyone: "又", "+1", "同意", "刚才说的".
_AGAIN = re.compile(r"又|\+1|附议|同意|刚才说的|昨天说的|前面说的|上回说的|还是老样子|还是没人|还在|再次|依旧|照样")
# A resident pointing back at what someone said before ("可不是嘛", "我跟严阿姨一个意思", "刚才邱师傅说那个",
# "他也说充电桩的事", "+1"): the same problem said again, even from another building or in other words.
_AGREE_START = re.compile(r"^(?:\+1|\+\d|推[，,！!\s]|可不是|可不咋的|没错|对对|对[，,！!]|就是就是|是啊|是的[，,]|确实|附议|同感"
                          r"|我(?:家|们)?也是[，,！!])")
# "对，还有个事……" agrees and then raises something else
# A remark that opens the speaker's next matter: "还有一个，5号楼有个老人…", "…吓得直哆嗦；再一个就是楼下那片草坪…"
_OPENS_ANOTHER = re.compile(r"^(?:还有一个|还有个事|还有件事|还有一件|另外一个|另外一件|另外还有|另一个|再一个|再说个|我再说个"
                            r"|第二个|第二件|第[二三四五六七八九十](?:是|点|条|项)|二是|再就是|另外(?![一两二三几\d]|也|还是|那|这)[，,]?(?=[\u4e00-\u9fff]))")


def _opens_another(plain: str) -> bool:
    """Whether a remark opens another matter, said at its start or after a filler ("嗯，再一个就是…")."""
    return bool(_OPENS_ANOTHER.match(plain) or _OPENS_ANOTHER.match(_FILLER.sub("", plain)))
_NEW_TOPIC = re.compile(r"还有|另外|再说个|我说个|还想说|别的事|另一个")
_TITLE = r"(?:阿姨|师傅|大爷|大妈|大娘|大姐|大哥|姐|哥|叔|婶|老师|奶奶|爷爷|先生|女士|小姐|经理|老太太|太太|伯伯|婆婆|阿婆|伯|太|生)"  # 黄生, 李太: Cantonese
_POINT_BACK = re.compile(
    rf"(?:跟|和|同)(?:上午|下午|早上|昨天|刚才|刚刚|前面|之前)?(?P<a>老?[\u4e00-\u9fff]{{1,2}}?{_TITLE}?)(?:是)?"
    r"(?:一个意思|(?:说|讲|想)(?:的|得|嘅)?一样|一样的意思|说的是一回事)"
    rf"|(?:刚才|刚刚|前面|上面|方才)(?P<b>老?[\u4e00-\u9fff]{{1,2}}?{_TITLE})(?:说|讲|提)"
    rf"|(?P<c>老?[\u4e00-\u9fff]{{1,2}}?{_TITLE})(?:刚才|刚刚)?(?:说的那个|说那个|提的那个|说的那事|说的事)"
    # "我也说个10号楼的事" opens a new topic; "他也说充电桩的事", "我也说一嘴" go back to one
    r"|也(?:说|提|反映|来说)了?(?![个件点下]|一个|一件|一下|两个)|我插一?句"
    r"|也(?:跟|和|向|同)(?:我|我们|社区)(?:说起|提起|提到|说到|反映)"
    # "我接着刚才消防通道说", "保安这个我也补一句", "我补充一下车棚": more on a matter already raised
    r"|接着(?:刚才|前面|上面|他|她)|也?补(?:充)?一句|我补充一下(?![，,\s]*(?:还有|另外|别的))"
    r"|(?:再次|又一次|第二次|又)来电|再次反映|又打电话|又打来|再次打来|又来电话"
    # "那车我也注意到了": the speaker saw the same thing
    r"|我(?:们)?也(?:注意到|看到|发现|碰到|遇到|见到|看见)了?"
    # "刚才那个煤气的事啊，我再说一下": back to a matter by its name
    r"|^(?:刚才|刚刚|前面|上面)(?:那个|说的那个|提的那个|说的)[\u4e00-\u9fff]{1,6}?(?:的事|的问题|那事)"
    # "唐丽说得没错": the speaker named in full
    r"|^(?P<d>[\u4e00-\u9fff]{2,3}?)(?:说得|讲得|说的)(?:没错|对|在理|是)")
# "昨天说的那根线今晚又挂出来了", "上次说的那个井盖还是没修": back to a matter by the thing named then
_SAID_BEFORE = re.compile(r"^(?:昨天|前天|今早|上午|下午|早上|刚才|刚刚|前面|之前|上次|上回|前几天)(?:我|有人|大家)?"
                          r"(?:说|讲|提|反映|发)(?:的|过的)(?:那|这)(?:个|根|辆|只|条|件|台|块|几个|些|堆)?"
                          r"(?P<what>[\u4e00-\u9fff]{1,4}?)(?=[今又还也都已就仍到，,。！!？?]|$)"
                          # "还是那个水压啊，我再说一下": the matter named, raised again
                          r"|^(?:还是|又是)(?:刚才|刚刚|上次|之前)?那个(?P<again>[\u4e00-\u9fff]{1,4}?)(?=[啊呀的事问，,。！!？?]|$)")
_LEAD_TOPIC = re.compile(r"^(?P<what>[\u4e00-\u9fff]{2,6}?)(?:这个|这事|这块|的事|那个事|那事)")
_SAME_AS = re.compile(r"也是一样|也一样|同样的问题|一样的问题|也有这个问题|也是这样|也是这个情况|也是这种情况|也是这情况"
                      r"|也有人(?:这么|这样|那么|那样)(?:干|弄|搞|做)")
# News style puts the speaker after the quote: "住在3号楼的居民蒋先生说起这件事仍心有余悸。"
_ATTRIBUTION = re.compile(r"(?:家住|住在)?[^，。]{0,12}?的?(?:居民|业主|村民|老人|退休教师)(?P<name>[\u4e00-\u9fff]{1,2}(?:大爷|大妈|阿姨|大姐|大哥|师傅|女士|先生|老师|奶奶|爷爷))")
# "马丽表示，……" / "物业当场回应……": a staff answer in reported speech.
_ANSWERED = re.compile(r"^[”\"]?(?![^，,]{0,6}(?:居民|业主|群众|大家|住户|有人))[\u4e00-\u9fff]{2,8}?(?:当场|当即|随即)?"
                       r"(?:表示|回应|答复|承诺|解释)")
# Asking how an earlier matter went ("上回那个事后来怎么样了？") is a follow-up question, not a new problem.
_INQUIRY = re.compile(r"(?:后来|现在)?怎么样了[？?]*$|进展(?:如何|怎样|怎么样)|有(?:结果|消息|回音)了?(?:吗|没有)|办得怎么样|处理得怎么样"
                      r"|(?:找|查|抓|逮)(?:到|着)了?(?:吗|没有|没)[？?]")
# Routine all-clear lines in walk logs ("消防通道畅通，未发现异常") are not problems.
_ALL_CLEAR = re.compile(r"(?:未|没有?)(?:发现|见)(?:异常|问题|隐患)|(?:运行|使用|值守|开放|秩序|通行)(?:正常|良好)|一切正常|无异常|(?<![不没未欠])畅通")
# A staff answer that passes a matter on: "我们帮您把情况反映上去", "报街道", "通过12345向交通部门反映"
_FORWARDED = re.compile(r"反映上去|报上去|报(?:给)?街道|上报|报区|向[^，。,]{1,12}反映|反映给|通过12345|转(?:交|给|办)"
                        r"|帮(?:您|你|他|她|来电人|居民|老人|其)?(?:问问|反映|联系|打听|咨询|对接)|整理一下报|协助办理|代为(?:办理|申请|联系)"
                        # "帮她把情况反映到街道", "并将诉求转区人社局处理", "转街道社保所"
                        r"|帮(?:您|你|他|她|其)?把[^，。,]{0,8}(?:反映|转|报)|将[^，。,]{0,6}转|转[^，。,]{0,8}(?:局|所|中心|办|公司)[^，。,]{0,4}处理")
# Asking after a matter: "修好了没有", "什么时候能修好", "到底有没有人管"
_CHASING = re.compile(r"(?:修|弄|处理|解决|清)好了?(?:没有|没|吗)|什么时候(?:能|才能|可以)?(?:修好|修|处理|解决|恢复|来)"
                      r"|到底(?:有没有人|谁)管")
# A diary's next line saying what lay behind the one before: "原来是…", "过去一看，…"
_EXPLAINS = re.compile(r"^(?:原来|过去一看|上去一看|下去一看|到(?:现场|那儿|那里|那边)一看|进去一看|一看才知道|一问才知道"
                       r"|仔细一问)")
# A transcript's unnamed speakers and a hotline's caller: their role is unknown
_ANONYMOUS = re.compile(r"(?:未知)?(?:说话人|发言人|讲话人|[Ss]peaker)\s*\d*$|来电人$")
# "（众笑）" after a remark: a joke
_LAUGHTER = re.compile(r"[（(](?:众笑|大家笑|全场笑|哄笑|大笑|笑)[）)]")
# The chair closing the meeting ("好，今天就到这儿，散会。") is never part of an answer.
_CLOSING = re.compile(r"^(?:好[的吧]?[,，!！]?)?(?:那)?(?:今天(?:的会)?(?:就)?(?:先)?(?:开)?到这|散会|谢谢大家|感谢大家|大家辛苦了"
                      r"|以上(?:问题|几个问题|几件事|事项|这些问题)[,，]?(?:请|由)?各"
                      r"|(?:今天)?大家(?:提|说|反映)的(?:问题|事|事情)?(?:我们)?都(?:记下|记录|记))")
# A walk log's own actions ("协调物业清理了东门的垃圾") are not reports, though listed like them ...
_OWN_ACTION = re.compile(r"^(?:协调|联系|通知|督促|配合|参加|组织|陪同|走访|入户|发放|宣传|复查|回访|召开|已(?!经))")
# ... and, on any line, the worker's own errands (a 回访 or 复查 line may report the problem still there)
_OWN_VISIT = re.compile(r"^(?:入户走访|走访|参加|组织|发放|宣传|召开|陪同|配合)")
_HEARD = re.compile(r"说|反映|称|提到|提出|诉求|问题|投诉")  # "走访…王大爷家，老人说卫生间一直渗水" is a report
# Praise is not a problem: "先说个好的，上周物业把垃圾桶换新了，挺好"
_PRAISE = re.compile(r"^(?:先说(?:个|一个|件)?好(?:的|事)|表扬一下|先表扬|点个赞|给[^，,。]{1,8}点(?:个)?赞|要感谢|感谢[^，,。]{1,8}(?:帮|给|把))")
# a grid worker reporting what a walk turned up speaks as a resident would: "巡查中发现中心花园草坪被……"
_FOUND = re.compile(r"^(?:今天|今早|上午|下午|昨天)?(?:巡查|巡检|走访|入户)(?:中|时|过程中)?发现")
# Reminders to residents ("请大家注意用电安全") are notices, not problems.
_REMINDER = re.compile(r"^(?:请大家|请各位|请居民|请广大|提醒大家|温馨提示|各位居民请|希望大家)")
# A work arrangement: "本周六社区开展消防演练，请各网格提前通知居民" (not when a resident goes on "可是…")
_ARRANGEMENT = re.compile(r"^(?:本周|下周|本月|下月|明天|后天|周[一二三四五六日末]|[\d一二三四五六七八九十]+月[\d一二三四五六七八九十]+日)"
                          r"[^，,。]{0,16}(?:开展|组织|举办|召开)[^。]*(?:请各|演练|活动|培训|讲座|会议|宣传|义诊|体检)")
_BUT = re.compile(r"可是|但是|但|就是|不过|只是|还是|又|却")
_FILLER = re.compile(r"^(?:来电人|市民|居民)?(?:反映|称|来电反映|来电称)[：:，,]?|^(?:我先说一个|我先说|我说个|我说一下|我说两句|我反映个事|我反映一下|我想反映|还有一个|还有个事|另外|还有|就是|那个|嗯|呃|哎)[。，,！!：:\s]*")
_STOP = {"很大", "很多", "太大", "特别", "严重", "厉害", "好几天", "晚上", "白天", "我们", "你们", "他们", "这个", "那个", "问题", "小区", "居民", "一下", "现在", "还是", "已经", "没有", "就是", "什么",
         "大家", "反映", "希望", "社区", "物业", "时候", "一个", "这些", "那些", "事情", "情况", "来电人", "来电", "每天",
         "一直", "好几", "几天", "今天", "昨天", "不是", "可以", "能够", "怎么", "真的", "非常", "再说",
         "刚才", "刚刚", "前面", "上面", "意见", "整理", "不少", "一次", "两次", "几次", "多次", "每次", "一回", "两回", "争取",
         "上午", "下午", "中午", "早上", "凌晨", "半夜", "夜里", "明天", "后天", "前天", "昨晚", "今晚",  # times are no topic
         "还有", "另外", "根本", "好多", "不到", "有个", "回来", "外面", "里面", "那边", "这边"}  # nor linking words


class _Mention:
    def __init__(self, utt: Utterance, index: int):
        self.utt, self.index, self.parts = utt, index, []
        self.attribution: tuple[str, list[str]] | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True)
class Issue:
    """One distinct problem raised in the notes, ready for the ledger."""

    summary: str
    category: str
    category_name: str
    secondary: tuple[str, ...]
    urgent: bool
    owner: str
    co_owners: tuple[str, ...]
    deadline: dt.datetime | None
    location: str | None
    speakers: tuple[str, ...]
    mentions: int
    quotes: tuple[str, ...]
    response: str | None
    confidence: float
    needs_review: bool
    notes: tuple[str, ...] = field(default=())
    ref: str | None = None  # the hotline ticket number, when the notes give it (a pasted 12345 table)
    received_at: dt.datetime | None = None  # a walk log's line time on the record's day, when it gives one

    def to_dict(self) -> dict:
        """JSON-ready dict with ISO 8601 deadline."""
        return json_ready(self)


def strip_web_noise(text: str) -> str:
    """Drop copyright, source and share lines, and everything after 相关推荐 / 评论."""
    kept = []
    for line in text.splitlines():
        if _TAIL_MARKER.match(line):
            break
        if not _NOISE_LINE.match(line):
            kept.append(line)
    return "\n".join(kept)


# Single characters that name the thing a complaint is about (狗叫, 没水, 灯不亮); most other single
# characters are grammar or verbs shared by unrelated complaints (坏, 了, 又).
_PLACE_CHARS = set("门路")  # also in place names (北门, 和平路): too weak alone to tie two remarks together
_THING_CHARS = set("狗猫鼠蚊虫蟑水电气暖灯树草油烟味臭车门锁窗墙顶桶井路梯闸桩棚坑洞")


# things specific enough that the same one at the same place is one problem, whatever category each remark got
# (not 水 电 气 车 门 路, nor 车棚 and 充电桩, places of several problems: a full shed and its broken sockets)
_SPECIFIC_THINGS = set("狗猫鼠蚊虫蟑灯树井梯闸桩锁窗桶")
_SPECIFIC_WORDS = {"门禁", "单元门", "防盗门", "门锁", "岗亭", "防水层", "暖气片"}  # named by 门 or 水, yet one object
_NOT_THINGS = {"打电话", "来电", "来电话", "打来电话", "部门", "专门"}  # calling someone, not a phone that is broken


def _things(topic: set[str]) -> set[str]:
    """The topic words that name an object (电梯, 路灯, 水压, 狗), to tell two faults of one kind apart."""
    return {w for w in topic if any(c in _THING_CHARS for c in w) and w not in _NOT_THINGS}


def _thing_chars(things: set[str]) -> set[str]:
    """遛狗 and 大黄狗 are about the same thing: compare the characters that name things."""
    return {c for w in things for c in w if c in _THING_CHARS}


_ESTATE_NAME = re.compile(r"(?:小区|花园|家园|新村|公寓|苑|社区|大院|城|里|庭|府|湾|郡|邸|居|阁|轩|坊|路|街|大道|巷)$")


def _topic(text: str) -> set[str]:
    """What a remark is about, word by word; the words of an estate's or a road's name are not (幸福里小区's 幸福
    tied a building site's piling to a blocked drain in another ticket)."""
    named = [p for p in find_places(text) if _ESTATE_NAME.search(p) and len(p) >= 3]
    return {w for w in words(text) if (len(w) >= 2 or w in _THING_CHARS) and w not in _STOP and not w.isdigit()
            and not any(w in p for p in named)}


def _shared(a: set[str], b: set[str]) -> set[str]:
    """Topic words two remarks share, a word inside a longer one included (车库 and 地下车库, 充电 and 充电桩)."""
    return (a & b) | {w for w in a if len(w) >= 2 and any(w in x for x in b)} | {
        w for w in b if len(w) >= 2 and any(w in x for x in a)}


def summarize(quote: str) -> str:
    text = re.sub(r"\s+", " ", strip_pinyin(quote)).strip().strip("“”\"")
    for _ in range(2):
        text = _FILLER.sub("", text).strip()
    first = re.split(r"(?<=[。！？!?；;])", text)[0].rstrip("。！？!?；;，, ”")
    return first if len(first) <= 40 else first[:39] + "…"


def _roles(model: Model, texts: list[str]) -> list[dict]:
    if model.roles_engine is None:  # no role model shipped: fall back to the category model alone
        preds = model.predict(texts, normalized=True)
        fallback = model.taxonomy.fallback.code if model.taxonomy.fallback else None
        return [{"issue": 1.0 if p.category != fallback and p.confidence >= 0.5 else 0.0} for p in preds]
    engine = model.roles_engine
    proba = engine.proba(engine.features(texts))
    labels = engine.classes
    return [dict(zip(labels, map(float, row))) for row in proba]


_WHERE_WORDS = re.compile(r"门口|门前|旁边|附近|前面|后面|楼下|楼上|这边|那边|里面|外面|对面|一带|周边|[东南西北]侧|这里|那里|处|的|在"
                          r"|走到|来到|到了|路过|经过|巡查到|巡到|转到")  # "走到14号楼，" only says where the walk got to


def _place_only(text: str) -> bool:
    """"14号楼1单元门口，" only says where the next clause happens ("地库积水" says what happens there)."""
    places, rest = find_places(text), text
    for place in places:
        rest = rest.replace(place, "")
    return bool(places) and not re.search(r"[\u4e00-\u9fff]", _WHERE_WORDS.sub("", rest))


# A flat's number ("3-201", "201室", "502"): the same flats named again tie a report to an earlier one
_FLAT = re.compile(r"(?<![\d.:：/-])(?:\d{1,2}-)?(\d{3,4})(?=室|家|那家|号房|户|的|老|\s|，|,|$|[\u4e00-\u9fff])(?![\d年月日号楼栋]|元|块|米|平|度|斤|个|次|天(?!天)|分|人|辆)")
# A caller saying who they are: "哎，我是那个，就是…11号楼的，姓黄", "您好，我叫陈丽"
_SELF_INTRO = re.compile(r"^(?:[哎嗯喂啊]+[，,\s]*|(?:您|你)好[，,！!\s]*)*(?:我是|我叫|我姓|本人是|本人姓)")
# A line of a list ticked off as done: "…交社区 ✔", "换了 ok"
_TICKED = re.compile(r"(?:[√✔✓☑]|(?<![A-Za-z])(?:ok|OK|Ok))\s*[。.!！]?\s*$")
# "工程马强：", "何丽：", "陈经理：" inside an item of minutes: who answers, then the answer
_NAMED_ANSWER = re.compile(r"^(?:[\u4e00-\u9fff]{0,4}(?:经理|主管|主任|书记|工程|客服|秩序|保安|保洁|物业|网格员|社区|居委会?|民警|警官)"
                           r"[\u4e00-\u9fff]{0,3}|(?P<bare>[\u4e00-\u9fff]{2,3}))[：:]")
# "…想咨询原因。办理情况：已将诉求转区民政局处理": the item's own answer, on its line
_RESULT_LABEL = re.compile(r"^(?:办理情况|处理情况|处理意见|办理结果|处理结果|答复|回复|答复情况|回复内容)[：:]")
# labels of a ticket or a form ("诉求：", "地点：", "来电人：") and residents ("业主：") are no one answering
_FIELD_LABEL = re.compile(r"^(?:诉求|问题|地点|地址|时间|日期|原因|情况|备注|内容|事由|工单号?|电话|业主|居民|住户|来电人|反映人|"
                          r"来访人|村民|群众|租户|楼长|门牌|房号)[：:]")
# A walk log going back to a problem it found earlier ("4号楼东侧消防通道 复查，仍有一辆白色SUV停放"): when the
# problem is still there it is said again (a mention of it); when it is gone, the line says what became of it.
_RECHECK = re.compile(r"复查|复核|再次查看|再去查看|回头查看|再次巡查")
def _is_recheck(utt: Utterance, norm: str) -> bool:
    """A log's own line going back to a finding ("复查3号楼西侧投放点，已清运"), not a resident asking for one
    ("要求自来水公司复查水表", "上次说好复查，到现在也没人来看")."""
    found = _RECHECK.search(norm)
    if (found is not None and re.match(r"[：:]", norm[found.end():found.end() + 1])
            and re.search(r"上周|上次|上回|之前|前期|此前|上月|已登记|登记的", norm[:found.start()])):
        return not utt.notice  # "上周登记的15号楼东侧井盖松动，复查：物业已更换新井盖": the matter, then the re-check
    # the line opens with it, after at most its place ("4号楼东侧消防通道 复查，…"); a long report that goes on to
    # "然后复查3栋电梯，电梯又停了" is a report
    return (found is not None and found.start() <= 16 and not re.search(r"[，,。；;]", norm[:found.start()])
            and not utt.notice and not (utt.speaker and not utt.staff)
            and not re.search(r"要求|希望|请|申请|说好|说要|答应|让", norm[:found.start()]))


# inside a re-check that finds the problem still there: who answered, and what ("，物业说周五前清走")
_ANSWER_IN_RECHECK = re.compile(r"[，,；;]\s*(?=(?:物业|维修工|保洁|城管|街道|社区|业主|居民)(?:说|称|答复|回复|表示|承诺))")
_STILL_THERE = re.compile(r"仍有|仍在|仍然|仍未|仍旧|依然|依旧|还有|还在|还是|尚未|未清|没清|未修|没修|未整改|没整改|未见改善")


# What a log line did about its finding: "…门关不上也锁不住，已用铁丝临时绑住，明日报修。"
_ACTION_CLAUSE = re.compile(r"^(?:已(?!经坏|经[^，,]{0,4}(?:了|天))|立即|当场|马上|随即|随后|明日|明天|次日|稍后|现已)")


_ANSWER_CLAUSE = re.compile(r"^(?:回复|答复|反馈|回电|通知|联系)")  # "…回复线路检修下午四点恢复": what was said back


def _report_head(text: str) -> str:
    """The finding without the clauses after it that say what was done, for the role model; the whole
    line reads like a reply when the actions are long."""
    # a duty log's clauses are often spaced, not commaed: "8栋整栋停电 业主陆续来电 已联系供电所 回复…恢复"
    clauses = re.split(r"(?<=[,，])", re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "，", text))
    keep = list(clauses)
    while len(keep) > 1 and (_ACTION_CLAUSE.match(keep[-1].strip()) or _ANSWER_CLAUSE.match(keep[-1].strip())):
        keep.pop()
    head = "".join(keep).rstrip(",，")
    if len(keep) == len(clauses) or re.search(r"已|当即|立即|马上|当场|随即", head):
        return text  # "物业当即断电并贴了停用标识，已通知…" is an answer from its first word
    return head + "。"


def _all_fine(text: str) -> bool:
    """Every clause of a patrol line says something is in order: "路灯全部正常，健身器材正常，灭火器在有效期内"
    ("电梯运行不正常", "保安不在岗", "一直没恢复正常" are not)."""
    clauses = [c.strip() for c in re.split(r"[,，;；、。.!！]", text) if c.strip()]
    return bool(clauses) and all(re.search(r"(?:正常|完好|良好|无异常|畅通|在有效期内|齐全|在岗|到位)$", c)
                                 and not re.search(r"不|没|未|无法|尚未|缺", re.sub(r"无异常$", "", c)) for c in clauses)


_RELAYED = re.compile(rf"(?:楼|栋|单元|\d{{3,4}}|住户|家)的(?:[老小][\u4e00-\u9fff]|[\u4e00-\u9fff]{{1,2}}{_TITLE})(?:说|反映|讲|提)")


_FIXED_NOW = re.compile(r"现在(?:晚上|已经|都)?(?:好|亮堂|亮|通|热|有水|有电|正常|干净|没味|没味道|没臭味|不臭|不漏|不响)了|(?:下午|上午|晚上|当天|第二天)就(?:来水|来电|来气|通水|通电)了"
                        r"|(?:已经|都|当天就|第二天就|次日就|马上就|当场就?|现场就?)(?:修好|换好|清走|处理好|解决|拧紧|关好)了"
                        # "…换了软管，21:00处理完毕，楼下确认不再滴": a duty log's call dealt with on the shift
                        r"|(?:处理|维修|修复)完毕|确认(?:不再|已不)(?:滴|漏|响|冒)"
                        # "5号楼消火栓箱缺水带——已补齐，复核合格"; not "三天没来水了", not "物业说下午来修了"
                        r"|(?:复核|验收|复查)(?:合格|通过)|已整改到位")


# words of a fault, for rules that must not drop one ("询问…电梯停运两天了什么时候修好")
_FAULT = re.compile(r"[坏漏堵臭吵塌裂锈]|停运|停水|停电|停气|(?<!能)不[能亮通响热转]|没(?:人管|水|电|气|来)|失灵|故障")  # not 能不能


def _is_issue(utt: Utterance, text: str, role: dict, category: str, confidence: float, fallback: str | None) -> bool:
    """Role model first; a confident problem category tips terse fault reports ("踏板脱落，无法使用")."""
    p_issue = role.get("issue", 0.0)
    if utt.notice or _REMINDER.match(text) or _place_only(text):
        return False
    if (_SELF_INTRO.match(text) and re.search(r"[，,]\s*(?:姓|叫)[\u4e00-\u9fff]", text)
            and not re.search(r"[坏漏堵吵臭乱占缺破断塌裂扔]|不[能好亮通响]|没[有人水电]|一样", text)):
        return False  # "哎，我是那个，就是光明小区11号楼的，姓黄，黄桂芳。": who is calling, not what about
    if (_TICKED.search(text) and (utt.listed or utt.item is not None or utt.stamped)
            and re.search(r"好了|修好|换了|换好|交了|交社区|完成|已|解决|清走|搬走|处理了", text)):
        return False  # "门禁修好了 √", "会费交社区 ✔" in a 楼长's list: done ("消防通道堵塞 √" on a checklist is not)
    if (_ARRANGEMENT.match(text) or _PRAISE.match(text)) and not _BUT.search(text):
        return False  # "先说个好的，……挺好" / "下周三社区组织消防演练"; "…，可是消防栓是空的" is a problem
    if _OWN_VISIT.match(text) and not utt.speaker and p_issue < 0.9 and not _HEARD.search(text):
        return False  # "入户走访6号楼独居老人陈奶奶……": the worker's own visit, not a report
    if (_ALL_CLEAR.search(text) or _LAUGHTER.search(utt.text)) and p_issue < 0.9:
        return False  # "就是灯笼得早点收，别挂到五一去。（众笑）" is a joke
    if _all_fine(text) and p_issue < 0.9:
        return False  # "中心广场路灯全部正常，健身器材正常。"
    if _INQUIRY.search(text) and p_issue < 0.7:
        # "我家孩子明年上初中，划片是怎么划的？": a matter beyond the community, kept while staff may pass it on
        return category == fallback and confidence >= 0.5 and bool(utt.speaker) and not utt.staff
    if _FIXED_NOW.search(text) and not _BUT.search(text) and p_issue < 0.9:
        return False  # "上周说的3单元楼道灯，物业周二来换了，现在晚上亮堂了": done before the record was written
    if (re.search(r"(?:太|好|真|挺|特别)(?:热|冷|晒)|天气|气温|下雨|出汗|一身汗|天阴", text) and not _FAULT.search(text)
            and not re.search(r"\d+\s*(?:号楼|栋|幢|单元)", text)
            and not re.search(r"暖|供热|屋里|家里|室内|房间|水|电|淹|渗|滑|冒|倒|断|掉", text)):
        return False  # "今天太热了 转了一圈一身汗": the weather, not a problem ("屋里太冷了" is the heating)
    if re.match(r"(?:询问|咨询)", text) and not _FAULT.search(text):
        return False  # a 物业 call register's "询问本月物业费能不能用微信交": a question answered, no fault
    announced = re.search(r"有(?:几|两|三|四|五|一|些)(?:件|个|点)?(?:事|问题|情况)(?:情|儿)?想(?:跟|向|和|给)?"
                          r"(?:您|你|社区|书记|主任|大家)?(?:反映|说|汇报|讲|提)[^：:]*", text)
    if announced and not _FAULT.search(text[announced.end():]) and not _FAULT.search(text[:announced.start()]):
        return False  # "我是…301的住户陈淑芬，…有几件事想跟您反映一下。": the matters follow
    if re.search(r"(?:属|是|系)(?:个)?误会|误会一场|(?:情况|反映)不属实", text) and not _BUT.search(text):
        return False  # "…跳广场舞到九点半——经了解九点前已结束，属误会，已解释": looked into, nothing wrong
    if _ACTION_CLAUSE.match(text) and p_issue < 0.9:
        return False  # "马上打燃气抢修电话，我也赶到现场开窗通风": what was done about the finding before it
    # a dictated log's "…然后九栋电梯停了物业说在等配件" is the next finding, whoever dictates it, and
    # "3号楼的孙大姐说她家暖气片一直是温的" passes on what a resident said
    relayed = bool(_RELAYED.search(text[:30])) and not _FIXED_NOW.search(text)  # "…刘阿姨说暖气不热，现在热了": done
    if (utt.staff and not _FOUND.match(text) and not re.match(_VOICE_OPENS, text) and not relayed) or _ANSWERED.match(text):
        return p_issue >= 0.85 and not utt.refers_to
    if p_issue >= 0.5 or p_issue >= max(v for k, v in role.items() if k != "issue"):
        return True
    if category == fallback:  # a visitor's 事由 beyond the community is kept while staff may pass it on (`_merge`)
        # and so is a named resident's question about one ("我想问一下，我家孩子明年上初中，划片是怎么划的？")
        asks = (bool(re.search(r"[？?]$|问一下|想问|请问|问问", text)) and confidence >= 0.8 and not utt.staff
                and role.get("reply", 0.0) < 0.5)  # "…转给街道社保所，让他们直接给您打电话，行吗？" answers one
        # and a hotline ticket's 诉求 in a weekly list ("4. 工单号…，来电人王先生，反映其母亲今年养老金…")
        ticket = (utt.item is not None or utt.ticket) and bool(re.search(r"来电人|来电|反映|咨询|诉求", text))
        return ((utt.listed and utt.speaker is not None and p_issue >= 0.3) or (asks and bool(utt.speaker))
                or (ticket and confidence >= 0.8 and not utt.staff))
    if _RAISED.match(text):
        return True
    listed = (utt.item is not None or utt.ticket or utt.listed) and not _OWN_ACTION.match(text)
    # Items of a walk log or ticket list are reports by construction; elsewhere ask for some role evidence.
    # a duty log's timed line reads like a story ("20:15 5栋1单元电梯困人（1人），…20:38放出，人无事")
    told = (utt.stamped and not _OWN_ACTION.match(text) and confidence >= 0.8 and p_issue >= 0.05
            and bool(re.search(r"[坏漏堵臭吵缺破断塌裂锈困]|不[能亮通响动]|停用|故障|失灵",
                               re.sub(r"(?:无|未发现|未见|没有|未)[\u4e00-\u9fff]{1,4}", "", text))))  # not "无堵塞"
    return (confidence >= 0.8 and p_issue >= 0.3) or (listed and confidence >= 0.6) or told


# Where a resident turns to another matter inside one sentence: "楼道灯坏了一个星期，还有楼下垃圾桶没人清",
# "一个是电梯老坏另一个是东门路灯不亮" (voice input has no commas)
_SWITCH = re.compile(r"(?:(?:[，,；;]\s*|\s+)(?=(?:还有(?!人|些|的|点|很多|不少|好多|老人|小孩|孩子|居民|住户|业主|人在)|另外|再一个|再就是|顺便说一下|顺便说下|顺便提一下|第二个|二是)"
                     r"[，,：:\s]*[\u4e00-\u9fff\d])"
                     r"|(?<=[\u4e00-\u9fff])(?=(?:还有就是|还有一个是|另一个是|再一个是|顺便说一下|第二个是)[\u4e00-\u9fff]))")
_ENUMERATED = re.compile(r"^(?:另一个|再一个|第二个|二是)")  # "一个是…另一个是…": two matters, said so
# A dictated walk log has no commas: "…老人上下楼不安全然后五栋电梯停了还有七栋门口那个井盖松了". A joining word
# straight before another building or spot moves on to the next finding.
_VOICE_OPENS = (r"(?:然后|还有|对了|另外|再就是|接着|再有|再一个)(?=(?:就是|是|那个|那边)?(?:走到|来到|转到|绕到|到了|去了?|到)?"
                r"(?:(?:\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(?:号楼|栋|幢|座|单元|号门)"
                r"|(?:小区)?(?:[东南西北]门|大门|车棚|车库|地库|垃圾站|中心花园|广场)))")
_VOICE_JOIN = re.compile(r"(?<=[\u4e00-\u9fff\s])" + _VOICE_OPENS)  # "…容易摔 然后走到5号楼 5号楼单元门口…"


# "7幢3楼楼道灯不亮，楼梯扶手也松了", "车棚满了电动车只能停到路边，里面的充电口还坏了两个": after a comma, another
# thing with a fault of its own, said with 也/还 (`_split_switches` keeps the cut only for two confident kinds)
_ALSO = re.compile(r"(?<=[，,])\s*(?=[\u4e00-\u9fff]{1,8}?(?:也|还)[\u4e00-\u9fff]{0,3}?[坏漏堵臭松掉断破裂塌])")


_OWN_HOME = re.compile(r"^(?:我|我们|咱|他|她|他们|楼下|楼上|邻居|隔壁|对门)?[^，,]{0,4}?(?:家|屋|室)")


def _another_thing(sentence: str, at: int) -> bool:
    """After "，" at `at`: another object, not what the first part did to someone's home ("楼上卫生间一直漏水，
    我家天花板也掉了一大块墙皮" is one leak)."""
    first, then = normalize(sentence[:at]), normalize(sentence[at:])
    if _OWN_HOME.match(then):
        return False
    mine, theirs = _things(_topic(first)), _things(_topic(then))
    return bool(mine and theirs and not (mine & theirs) and not (_thing_chars(mine) & _thing_chars(theirs) - _PLACE_CHARS))


def _cut(sentence: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(set(cuts)), len(sentence)]
    return [sentence[a:b].strip(" ，,；;") for a, b in zip(bounds, bounds[1:]) if sentence[a:b].strip(" ，,；;")]


def _pieces(sentence: str, staff: bool = False, dictated: bool = True) -> list[str]:
    """A sentence cut where it turns to another matter; a staff member's only where a dictated log moves on
    to another building (their "还有" is more often their own next step), and only a dictation there."""
    cuts = sorted({m.end() for m in _SWITCH.finditer(sentence) if m.start() >= 4 and not staff}
                  | {m.start() for m in _VOICE_JOIN.finditer(sentence) if m.start() >= 6 and dictated})
    return _cut(sentence, cuts) if cuts else [sentence]


def _moves_on(first: str, then: str) -> bool:
    """"…三栋楼道灯不亮然后五栋楼道灯也坏了": the dictation went on to another building, another finding."""
    if not re.match(_VOICE_OPENS, then):
        return False
    here = {k for k in place_keys(find_places(first)) if k.startswith("楼")}
    there = {k for k in place_keys(find_places(then)) if k.startswith("楼")}
    return bool(here and there and not here & there and _things(_topic(normalize(then))))


def _split_switches(utts: list[Utterance], model: Model) -> set[tuple[int, str]]:
    """Cut a resident's sentence that raises two matters ("楼道灯坏了，还有垃圾桶没人清") into two, when each
    part says enough on its own (six characters or more, a confident category) and the parts are of
    different kinds, or the speaker numbers them ("一个是…另一个是…") and they name different things.
    "漫步机卡住了，还有一个扭腰器的转盘也掉了" stays one: the same kind of fault."""
    found, later = [], set()  # later: (utterance, piece) of each part after the first, a matter of its own
    for u in utts:
        if u.ticket:
            continue
        for s in u.sentences:
            # every cut, and as a fallback the cuts where a dictation moves on to another building only
            also = tuple(_cut(s, [m.start() for m in _ALSO.finditer(s) if m.start() >= 5 and _another_thing(s, m.start())]))
            dictated = u.staff or not u.speaker  # "张阿姨：…先修了三栋然后五栋一直没人管" is one complaint
            for pieces in dict.fromkeys((tuple(_pieces(s, u.staff, dictated)), tuple(_pieces(s, True, dictated)), also)):
                if len(pieces) > 1 and all(len(re.findall(r"[\u4e00-\u9fff]", p)) >= 6 for p in pieces):
                    found.append((u, s, list(pieces)))
    if not found:
        return later
    preds = model.predict([normalize(p) for _, _, ps in found for p in ps])
    k = 0
    for u, s, pieces in found:
        got, k = preds[k:k + len(pieces)], k + len(pieces)
        if s not in u.sentences:
            continue  # cut already
        # unsure parts stay one, unless a dictation moved on to another building or spot between them and says
        # what is wrong there ("然后五栋一直没人管" names nothing: it is the first part's lift, at another building)
        if any(p.confidence < 0.5 for p in got) and not all(
                re.match(_VOICE_OPENS, x) and (_things(_topic(normalize(x))) or g.confidence >= 0.5)
                for x, g in zip(pieces[1:], got[1:])):
            continue
        apart = all(a.category != b.category or _moves_on(x, y) or (
            _ENUMERATED.match(_FILLER.sub("", normalize(y)))
            and not (_things(_topic(normalize(x))) & _things(_topic(normalize(y)))))
            for a, b, x, y in zip(got, got[1:], pieces, pieces[1:]))
        if apart and s in u.sentences:
            at = u.sentences.index(s)
            u.sentences[at:at + 1] = pieces
            later.update((id(u), p) for p in pieces[1:])
    return later


def _read_after_questions(flat: list, cats: list, model: Model, fallback: str | None) -> set[int]:
    """"物业前台是不是只上半天班啊？下午三点多我去交钥匙，一个人都没有": what follows a resident's question
    in the same turn and reads as nothing alone (nobody being there could be anywhere) is read with it.
    The indexes of the sentences so read: the question goes into that problem's words."""
    ask = [k for k in range(1, len(flat)) if flat[k][0] is flat[k - 1][0] and not flat[k][0].staff
           and re.search(r"[？?]\s*$", flat[k - 1][1]) and cats[k].category == fallback]
    read = set()
    for k, p in zip(ask, model.predict([flat[k - 1][2] + flat[k][2] for k in ask], normalized=True) if ask else []):
        if p.category != fallback and p.confidence >= 0.5:
            cats[k] = p
            read.add(k)
    return read


def extract(text: str, model: Model, received_at: dt.datetime, beyond: list[str] | None = None,
            unlisted: list[str] | None = None, now: dt.datetime | None = None) -> list[Issue]:
    """Distinct problems in meeting notes, walk logs or ticket batches, in order raised.

    `received_at` is the record's time; `now` (default: the same) bounds the days a log kept over
    several days gives its findings ("24号周二"): a finding is never dated after now.

    `beyond`, when given, receives the words of each matter outside the community that staff did not pass
    on (a pension question, a school place): not a problem for the ledger, but not lost without a word.
    `unlisted`, when given, receives each resident's request or question that was not read as a problem
    ("希望社区医生能上门量血压", "有居民问今年的取暖费什么时候开始交"), for staff to look at."""
    utts = split_utterances(strip_web_noise(text or ""))
    switched = _split_switches(utts, model)
    flat = [(u, s, normalize(s)) for u in utts for s in u.sentences]
    flat = [(u, s, n) for u, s, n in flat if re.search(r"[\u4e00-\u9fff]{2}", n)]
    if not flat:
        return []
    fallback = model.taxonomy.fallback.code if model.taxonomy.fallback else None
    roles = _roles(model, [n if u.staff else _report_head(n) for u, _, n in flat])
    cats = model.predict([n for _, _, n in flat], normalized=True)
    asked = _read_after_questions(flat, cats, model, fallback)
    prepended: set[str] = set()
    mentions: list[_Mention] = []
    replies: list[tuple[int, Utterance, str]] = []
    current: _Mention | None = None
    current_cat = None
    raised: tuple[Utterance, str | None] | None = None  # the last resident turn that raised a problem
    for i, ((utt, sentence, norm), role, cat) in enumerate(zip(flat, roles, cats)):
        # "可不是嘛，那条狗……" / "+1 我也闻到了" straight after a resident raised something of that kind
        # is that problem said again, however chatty it sounds
        agrees = (not utt.staff and raised is not None and raised[0] is not utt and utt.sentences[0] == sentence
                  and bool(_AGREE_START.match(_FILLER.sub("", norm)))
                  # "是的，上周我去报修也是，前台空着": the same thing happened to them too
                  and (norm.startswith(("+", "推")) or (cat.category == raised[1] and (cat.confidence >= 0.5 or "也" in norm[:12]))
                       or bool(_SAME_AS.search(norm))))  # "对，3号楼那边也有人这么干"
        if not utt.staff and utt.sentences[0] == sentence and raised is not None and raised[0] is not utt:
            raised = None  # another resident turn came in between
        # "充电桩的事业委会也收到不少意见": a matter already raised, named first, heard again
        lead = (_LEAD_TOPIC.match(_FILLER.sub("", norm)) if utt.sentences[0] == sentence and "也" in norm
                and not utt.staff else None)  # "广场舞这个我们之前也协调过" from the host is an answer
        echoes = lead is not None and any(lead.group("what") in normalize(" ".join(x.parts)) for x in mentions)
        # "电梯修好了没有？我九楼实在爬不动了": a resident asking after a matter already raised says it again
        chased = (not utt.staff and bool(_INQUIRY.search(norm) or _CHASING.search(norm)) and bool(mentions)
                  and bool(_things(_topic(norm)) & set().union(*(_things(_topic(normalize(" ".join(x.parts))))
                                                                  for x in mentions[-6:]))))
        # "602又开始了" from the one who complained about 602: the same flat's trouble again
        again = (not utt.staff and bool(utt.speaker) and bool(_AGAIN.search(norm)) and any(
            x.utt.speaker == utt.speaker and set(_FLAT.findall(norm)) & set(_FLAT.findall(normalize(x.text)))
            for x in mentions))
        echoes = echoes or chased or again
        # a named resident (not "说话人3" of a transcript, whose role is unknown)
        resident = bool(utt.speaker) and not utt.staff and not _ANONYMOUS.match(utt.speaker)
        # "…疑似僵尸车。杜伟：下周一贴通知": inside a listed item, a later sentence led by a name and a colon is
        # the answer of the one named (a staff member of the meeting), not more of the report
        named = _NAMED_ANSWER.match(norm)
        if ((utt.item is not None or utt.listed or utt.ticket) and sentence != utt.sentences[0]
                and (_RESULT_LABEL.match(norm) or (named and not _FIELD_LABEL.match(norm) and role.get("issue", 0.0) < 0.85
                     and (not named.group("bare") or role.get("reply", 0.0) >= role.get("issue", 0.0))))):
            replies.append((i, utt, sentence))
            continue
        recheck = _is_recheck(utt, norm)
        still = recheck and bool(_STILL_THERE.search(norm)) and cat.category != fallback
        if recheck and not still:  # "复查3号楼西侧投放点，已清运": what became of a problem found before
            replies.append((i, utt, sentence))
            if current is not None and current.utt is not utt:
                current = None
            continue
        answer = _ANSWER_IN_RECHECK.search(sentence) if still else None
        if answer:  # "复查：…还在，物业说周五前清走": what the 物业 said back is its answer, not the finding's words
            replies.append((i, utt, sentence[answer.start() + 1:].strip()))
            sentence = sentence[:answer.start() + 1].rstrip("，, ")
        if agrees or echoes or still or _is_issue(utt, norm, role, cat.category, cat.confidence, fallback):
            if not utt.staff and raised is None:
                raised = (utt, cat.category)
            whole_item = utt.ticket or utt.item is not None or utt.listed or utt.stamped
            same_turn = current is not None and current.utt is utt
            # a diary's next line that says what lay behind it ("原来是…", "过去一看，…") is the same problem
            explains = (current is not None and not same_turn and utt.sentences[0] == sentence and not utt.staff
                        and utt.speaker in (None, current.utt.speaker) and utt.line == current.utt.line + 1
                        and utt.item == current.utt.item  # "2. 经了解，…" is the next item of a list
                        and bool(_EXPLAINS.match(norm)))
            if explains:
                current.parts.append(sentence)
                continue
            strong = cat.confidence >= 0.5
            # a sentence naming no thing of its own ("小孩子天天在那儿玩") says more about the one before
            plain = same_turn and not _things(_topic(norm)) and not find_places(sentence)
            opens = (id(utt), sentence) in switched or _opens_another(norm)
            if same_turn and not opens and (whole_item or not strong or cat.category == current_cat or plain):
                current.parts.append(sentence)
            else:
                current = _Mention(utt, i)
                if i in asked and (len(mentions) == 0 or mentions[-1].utt is not utt):
                    current.parts.append(flat[i - 1][1])  # the question before it says what it is about
                    prepended.add(flat[i - 1][1].strip())
                current.parts.append(sentence)
                mentions.append(current)
                current_cat = cat.category if strong else None
            if current_cat is None and strong:
                current_cat = cat.category
        else:
            if _CLOSING.match(norm):
                pass  # "散会。" after a reply is the chair closing the meeting, not part of the answer
            elif (resident and current is not None and current.utt is utt and not _ANSWERED.match(norm)
                    and not re.match(r"(?:我|已|答复|回复|当即|当场|马上)", norm)):
                # "…老伴都感冒了。打物业电话说是热力公司的事。": the resident goes on, it is not the reply
                # ("邱女士说…。我答应明天上午陪她上楼去看。" in a worker's log is the worker's answer)
                pass
            elif (role.get("reply", 0.0) >= max(role.values()) or (utt.staff and role.get("chatter", 0) < 0.6)
                    or _ANSWERED.match(norm)):
                replies.append((i, utt, sentence))
            else:
                if current is not None and current.utt is utt and not current.attribution:
                    found = _ATTRIBUTION.search(norm)
                    if found:  # who said the quote just before, and where they live
                        current.attribution = (found.group("name"), find_places(sentence))
                if (unlisted is not None and not utt.staff and not utt.notice and _ASKS_FOR.search(norm)
                        and not _SMALL_TALK.search(norm) and not _PRAISE.match(norm) and not _REMINDER.match(norm)
                        and len(re.findall(r"[\u4e00-\u9fff]", norm)) >= 6):
                    unlisted.append(sentence.strip())
            if current is not None and current.utt is not utt:
                current = None
    if unlisted is not None and prepended:  # a question read with what followed it is in that problem's words
        unlisted[:] = [x for x in unlisted if x not in prepended]
    return _merge(mentions, replies, model, received_at, utts, beyond, now or received_at)


# a request or question in what someone said: "希望社区医生能上门量血压", "有居民问今年的取暖费什么时候开始交"
# courtesy and chat that ask nothing of the community: "孩子没事吧？", "麻烦你们了", "还有没有要说的？"
_SMALL_TALK = re.compile(r"没事吧|怎么样[？?]|麻烦(?:你|您|领导)|添麻烦|不麻烦|还有(?:没有)?(?:别的|要说)|别的事吗|先说[？?]|听得见"
                         r"|感谢|表扬|谢谢|希望大家|意见建议|要求各|请逐件|[畅暢]所欲言"
                         r"|^[\u4e00-\u9fff]{1,3}(?:阿姨|大爷|师傅|姐|哥|叔|奶奶|爷爷|主任|书记)[，,]|熟吗|对吧")
_ASKS_FOR = re.compile(r"希望|能不能|可不可以|能否|想问|请问|问一下|问问|有居民问|居民问|什么时候|怎么办|要求|建议|麻烦|帮忙|盼着|[？?]\s*$")


def _surname(reference: str | None) -> str | None:
    """"严阿姨" → 严, "老邱" → 邱, "小燕" → None (a given name, not a surname)."""
    if not reference:
        return None
    if reference.startswith(("老", "小")) and len(reference) >= 2:
        return reference[1]
    rest = reference[1:]
    return reference[0] if re.fullmatch(_TITLE, rest) else None


_ITEM_FIX = re.compile(r"第(?P<n>[\d一二三四五六七八九十]{1,2})[条项点个][^，。,]{0,6}(?:说错|写错|搞错|记错|弄错)")


def _pointed_at(m: "_Mention", groups: list[dict], last: dict | None, topic: set[str], things: set[str],
                category: str) -> dict | None:
    """The earlier issue a mention explicitly points back at, if any (see `_AGREE_START`, `_POINT_BACK`).

    `things` is `_things(topic)`; each group keeps its own as g["things"].
    """
    text = _FILLER.sub("", normalize(m.utt.text).strip())
    wrong = _ITEM_FIX.search(normalize(m.text))  # this remark's own words, not its whole turn
    if wrong:  # "上面第1条我说错了，不是5单元，是4单元的电梯": item 1, put right
        n = cn_number(wrong.group("n"))
        for g in groups:
            if any(x.utt.item == n or re.match(rf"\s*{n}\s*[.、．)）]", x.text) for x in g["mentions"]):
                return g
    if (_AGREE_START.match(text) and last is not None and last["mentions"][-1].utt is not m.utt
            and not _NEW_TOPIC.search(text[:14])):
        mine, theirs = _thing_chars(things), _thing_chars(last["things"])
        other_thing = mine and theirs and not (mine & theirs)  # 电梯 then 路灯: something else
        if last["topic"] & topic or (last["category"] == category and not other_thing) or (mine & theirs) - _PLACE_CHARS:
            return last  # "可不是嘛，那狗……" right after the dog, "对，我们家也没电" after a power cut
        if text.startswith(("+", "推")) and m.index - last["mentions"][-1].index <= 4:  # 推: a forum's "+1"
            if other_thing:  # "+1，车库入口那儿确实天天被堵" after the 烧烤摊: the 车库 problem it names
                named = next((g for g in reversed(groups) if g is not last and (g["things"] & things or (
                    _thing_chars(g["things"]) & _thing_chars(things)) - _PLACE_CHARS)), None)  # 大洞 and 那个洞
                if named is not None:
                    return named
            return last  # "+1 昨天我家孩子差点踩上去": a chat reply to the post just above
    own = normalize(m.text)
    if m.utt.to and not m.utt.staff and m.parts[0] == m.utt.sentences[0] and not _NEW_TOPIC.search(own[:14]):
        # "@老李头 那车我也注意到了": a chat reply about one of 老李头's posts, the one it shares most with
        here = place_keys(find_places(m.text))  # "我们6栋门口也有一辆" is another car than the one at 东门
        theirs = [g for g in reversed(groups) if any(x.utt.speaker == m.utt.to for x in g["mentions"])
                  and not places_conflict(g["keys"], here)]
        about = [g for g in theirs if g["topic"] & topic or g["things"] & things
                 or (_thing_chars(g["things"]) & _thing_chars(things)) - _PLACE_CHARS]
        if about:
            return about[0]
        if theirs and (theirs[0]["category"] == category or _POINT_BACK.search(own[:40])):
            return theirs[0]
    before = _SAID_BEFORE.match(text)
    if before:
        what = before.group("what") or before.group("again")
        named = next((g for g in reversed(groups) if g["mentions"][0].utt is not m.utt
                      and any(what in normalize(x.text) for x in g["mentions"])), None)
        if named is not None:
            return named
    back = _named_again(m, groups, things, _FILLER.sub("", normalize(m.text)))
    if back is not None:
        return back
    found = _POINT_BACK.search(text[:40])
    if not found:
        return None
    name = _surname(found.group("a") or found.group("b") or found.group("c"))
    candidates = [g for g in reversed(groups) if g["mentions"][0].utt is not m.utt]
    if found.group("d"):  # a full name: the issue that speaker raised last
        by_them = [g for g in candidates if any(x.utt.speaker == found.group("d") for x in g["mentions"])]
        if by_them:
            return by_them[0]
    lead = _LEAD_TOPIC.match(text)
    if lead:  # "保安这个我也补一句", "刚才那个煤气的事": the matter named first is the one meant
        what = re.sub(r"^(?:刚才|刚刚|前面|上面)?(?:说的那个|提的那个|那个|说的)?", "", lead.group("what")) or lead.group("what")
        named = [g for g in candidates if any(what in normalize(x.text) for x in g["mentions"])]
        if named:
            return named[0]
        if re.match(r"(?:刚才|刚刚|前面|上面)", text):
            return None  # "刚才那个垃圾的事谁管？" about a matter nobody raised: its own issue
    named_them = False
    if name:
        by_them = [g for g in candidates if any(normalize(x.utt.speaker or "").startswith(name) for x in g["mentions"])]
        if len(by_them) == 1:
            return by_them[0]  # "我跟严阿姨一个意思": the one thing 严阿姨 raised so far
        candidates, named_them = by_them or candidates, bool(by_them)
    for g in candidates:  # the latest issue it shares a thing (电梯, 狗; 充电 in 楼道充电) or, failing that, a word with
        if g["things"] & things or any(set(w) & _THING_CHARS - _PLACE_CHARS for w in _shared(g["things"], things)):
            return g
    for g in (candidates if named_them else []):  # "跟林老太太说的一样": of her problems, the one of that kind (水)
        if (_thing_chars(g["things"]) & _thing_chars(things)) - _PLACE_CHARS:
            return g
    return next((g for g in candidates if g["topic"] & topic or g["category"] == category), None)


_SOMEONE = re.compile(rf"(?:[老小](?!区|人|孩|是|年|时|朋友|学|家|公|婆|板|伙|两口|毛病|样子|地方|问题)[\u4e00-\u9fff]"
                      rf"|[\u4e00-\u9fff]{_TITLE})")
_BACK_ABOUT = re.compile(r"又|那个[\u4e00-\u9fff]{1,4}的事|还是")


_SPOKEN_FIX = re.compile(r"(?:不对(?!劲|头|称|付|于|的|啊|吧|吗)|说错了|哦不是|不是不是)[，,。\s]*(?:不是(?P<x>[^，,。\s]{1,10}?)(?=[，,\s]*是))?")


def _drop_corrected(places: list[str], text: str) -> list[str]:
    """Places the speaker took back: "先说3号楼 不对不是3号楼是5号楼", "7号楼后面那个 不对 6号楼后面那个"."""
    wrong = set()
    for fix in _SPOKEN_FIX.finditer(text):
        after = text[fix.end():]
        named = fix.group("x") or text[max(0, fix.start() - 12):fix.start()]
        wrong |= {p for p in places if p in named and p not in after}
    return [p for p in places if p not in wrong]


def _under_area(said: list[str], area: str | None) -> list[str]:
    """Places of a finding under "【4号楼】": the heading's building first, unless the finding names its own
    ("1单元、2单元楼道声控灯…" is in 4号楼; "车棚外的草坪" under 【车棚】 is the 车棚)."""
    if not area or any(area in p or p in area for p in said):
        return said
    if any(not k.startswith("单元") for k in place_keys(said)):
        return said  # it names its own building, gate or spot
    return [area, *said]


def _answer_to_question(m: "_Mention", utts: list[Utterance], order: dict[int, int], by_utt: dict,
                        plain: str) -> dict | None:
    """"说话人4：…7号楼2单元有人推电瓶车进楼道充电" / "说话人1：知道是哪户吗？" / "说话人4：就一楼西户，租房的":
    the answer to a short question about what the speaker just raised tells more about it."""
    k = order.get(id(m.utt))
    if k is None or k < 2 or not m.utt.speaker or m.parts[:1] != m.utt.sentences[:1] or _opens_another(plain):
        return None
    asked, before = utts[k - 1], utts[k - 2]
    # a question about the matter itself (which flat, since when, whose), not "还有别的吗？" (a review found it
    # merging the next matter into the first)
    if (before.speaker != m.utt.speaker or asked.speaker == m.utt.speaker or len(asked.text.strip()) > 20
            or not re.search(r"[？?]\s*$", asked.text)
            or not re.search(r"哪|几楼|几号|几层|什么时候|多久|多长时间|几天|谁家|是谁|谁的|什么样", asked.text)):
        return None
    group = by_utt.get(id(before))
    if group is None or places_conflict(group["keys"], place_keys(find_places(m.text))):
        return None
    return group


def _named_again(m: "_Mention", groups: list[dict], things: set[str], text: str) -> dict | None:
    """A dictated log: "刘阿姨走的时候又回来跟我说那个水的事…" goes back to what 刘阿姨 was reported saying
    (a person named inside an earlier finding, not a speaker of the record), when it is about the same thing."""
    head = text[:30]
    if not _BACK_ABOUT.search(head):
        return None
    mine = _thing_chars(things) - _PLACE_CHARS
    here = place_keys(find_places(m.text))
    for who in dict.fromkeys(_SOMEONE.findall(head)):
        for g in reversed(groups):
            if (any(who in normalize(x.text) for x in g["mentions"]) and mine & _thing_chars(g["things"])
                    and not places_conflict(g["keys"], here)):
                return g
    return None


def _work_order(group: dict) -> bool:
    """A numbered 12345 ticket (a row of a ticket list): filed and answered whatever it is about."""
    first = group["mentions"][0].utt
    return bool(first.ticket and first.ref)


def _forwarded(reply: str) -> bool:
    """Staff say they pass the matter on themselves: "我们帮您把情况反映上去", not "您可以自己向区教育局反映"
    or "不用上报了"."""
    if re.search(r"(?:不用|不必|无需|不需要|没法|无法|不能|不会)(?:再)?(?:帮)?(?:上报|反映|转|报)"
                 r"|(?:您|你)(?:可以|自己|最好|得)[^，。,]{0,12}反映|自行[^，。,]{0,8}反映", reply):
        return False
    return bool(_FORWARDED.search(reply))


def _one_incident(group: dict, keys: set[str], things: set[str], plain: str, tax, received_at: dt.datetime) -> bool:
    """"我们单元从昨晚也一直停着电" after a power cut in another unit of the same building: an urgent outage or
    leak of the supply (电, 水, 气, 暖) reaches several units, so the same building is enough when the speaker
    says 也. Clutter in two stairwells stays two problems."""
    buildings = {k for k in keys if k.startswith("楼")}
    if not buildings or buildings != {k for k in group["keys"] if k.startswith("楼")} or "也" not in plain:
        return False
    if not (_thing_chars(things) & _thing_chars(group["things"]) & set("电水气暖")):
        return False
    return route(group["category"], plain, received_at, tax).urgent and any(
        route(group["category"], normalize(x.text), received_at, tax).urgent for x in group["mentions"][:1])


def _merge(mentions: list[_Mention], replies, model: Model, received_at: dt.datetime, utts,
           beyond: list[str] | None = None, now: dt.datetime | None = None) -> list[Issue]:
    tax = model.taxonomy
    fallback = tax.fallback.code if tax.fallback else None
    plains = [normalize(m.text) for m in mentions]  # each mention normalised once, for the model and the merge
    preds = model.predict(plains, normalized=True) if mentions else []
    groups: list[dict] = []
    by_utt: dict[int, dict] = {}
    order = {id(u): k for k, u in enumerate(utts)}
    last: dict | None = None  # the issue the previous mention went to
    for m, p, plain in zip(mentions, preds, plains):
        if (last is not None and _SAME_AS.search(plain) and _AGREE_START.match(_FILLER.sub("", plain))
                and last["mentions"][-1].utt is not m.utt):
            p = replace(p, category=last["category"])  # "对，3号楼那边也有人这么干": the same thing, said again
        held = p.category == fallback and p.confidence >= 0.5  # beyond the community: kept only if staff pass it on
        named = find_places(m.text)
        said = _under_area(_drop_corrected(named, m.text), m.utt.area)
        places = (said or ([m.utt.speaker_place] if m.utt.speaker_place else [])
                  or (m.attribution[1] if m.attribution else []))
        keys, topic = place_keys(places), _topic(plain)
        if groups and _SAME_AS.search(re.split(r"[，。,；;！!？?]", plain, maxsplit=1)[0]) and groups[-1]["category"] in p.scores:
            # "5单元也是一样……": the same kind of problem as the one just raised, maybe elsewhere; not
            # "…水龙头出水跟线一样细，楼上几家也一样", which says who else has the problem it describes
            p = replace(p, category=groups[-1]["category"])
        repeat = bool(_REPEAT.search(plain)) or _is_recheck(m.utt, plain)  # a re-check still finding it says it again
        things = _things(topic)
        flats = set(_FLAT.findall(plain))
        target = _pointed_at(m, groups, last, topic, things, p.category) if m.utt.text.strip() else None
        if target is None:
            target = _answer_to_question(m, utts, order, by_utt, plain)
        for g in ([] if target is not None else reversed(groups)):
            if g["category"] == fallback:
                continue  # matters beyond the community share no kind: a pension and a school place are two
            same = g["category"] == p.category
            # An unsure follow-up ("纸箱的事我再说一句") may join an issue it clearly repeats,
            # if that issue's category is among its top guesses.
            # An explicit repeat ("又说门禁还是没修") may join across categories too, when it shares
            # two topic words and the place with the issue (checked below).
            unsure = (p.confidence < 0.5 and g["category"] in p.scores) or repeat
            # (at a place the remark names; one 楼长's own building is where both his lamp and his trees are)
            own_home = not said and any(x.utt.speaker == m.utt.speaker for x in g["mentions"])
            if ((same or g["category"] in p.scores) and not own_home and (g["keys"] & keys) and not places_conflict(g["keys"], keys)
                    and (_thing_chars(things) & _thing_chars(g["things"]) & _SPECIFIC_THINGS
                         or _shared(g["topic"], topic) & _SPECIFIC_WORDS)):
                # the same object at the same place, even filed differently: "4号楼后面小花园里有好几只流浪猫" (宠物)
                # and "4号楼附近野猫越来越多，半夜叫春" (环境), "单元门口那个井盖松了" and "单元门口那块井盖一踩就响"
                target = g
                break
            speaker_again = m.utt.speaker and any(x.utt.speaker == m.utt.speaker for x in g["mentions"])
            if (same or speaker_again) and (repeat or _AGAIN.search(plain)) and flats & g["flats"]:
                # the same flats named again: "301那家还是不管，201老两口天天接水盆" after "3-201 反映 卫生间顶上渗水，
                # 楼上3-301家的…"; "602又开始了" from the one who complained about 602, however it was filed
                target = g
                break
            if not (same or unsure):
                continue
            if places_conflict(g["keys"], keys):
                if same and _one_incident(g, keys, things, plain, tax, received_at):
                    target = g
                    break
                continue
            shared = _shared(g["topic"], topic)
            # items of a log or ticket list are separate reports, and so are a walk log's timed lines
            listed = m.utt.item is not None or m.utt.ticket or m.utt.listed or m.utt.stamped
            # 暖气 and 暖气片, 遛狗 and 大黄狗; not 路面 and 马路 (路 and 门 are in place names too)
            akin = bool((_thing_chars(things) & _thing_chars(g["things"])) - _PLACE_CHARS)
            if (not same and repeat and akin and g["category"] in p.scores and m.utt.speaker
                    and any(x.utt.speaker == m.utt.speaker for x in g["mentions"])):
                target = g  # "今天那辆车又来了，还是堵在出口": who reported the car, about it again, however it reads
                break
            opens = _opens_another(plain)  # "还有一个，5号楼有个老人…": a matter of its own
            # a walk log's next timed line is another finding unless it names the same thing (自行车 is not 面包车)
            stamped_apart = m.utt.stamped and not ((g["things"] & things) - _PLACE_CHARS
                                                   or len(shared - _PLACE_CHARS) >= 2)  # 路 alone ties nothing
            if (same and g is last and not stamped_apart
                    and (shared or akin or (not listed and not opens and (not things or not g["things"])))):
                # straight after a mention of the same kind and not about a different thing (电梯 then
                # 楼道灯 stay apart): a follow-up in a chat, a second call about the same fault
                target = g
                break
            if same and (repeat or (akin and _AGAIN.search(plain))) and (g["keys"] & keys) and (akin or not m.utt.stamped):
                # "都十二点了3栋还是没水": same place, same kind, said again; "又去4号楼看水压，还是很小"
                target = g
                break
            # one named resident (the 来电人 of two tickets are two callers)
            speaker = (m.utt.speaker and not _ANONYMOUS.match(m.utt.speaker)
                       and any(x.utt.speaker == m.utt.speaker for x in g["mentions"]))
            if (same and speaker and _MY_OWN.search(plain) and (akin or (g["keys"] & keys))
                    and not re.search(r"更要紧|更重要|另一个|再一个", plain)):
                target = g  # "还有我刚才说的那个事，3号楼晚上黑灯瞎火的": the speaker's own earlier problem
                break
            if (same and speaker and (g["keys"] & (place_keys(said) if said else keys if _AGAIN.search(plain) else set()))
                    and (akin or not (things and g["things"])) and not re.search(r"也|还有|另外|再说", plain)):
                # the same resident, the same kind, at the place they name ("今天我都不敢从5栋底下走了"), or at home
                # when they say it is still so ("报了八百回了，还是老样子")
                target = g
                break
            if not shared:
                continue
            if same and (repeat or speaker or _AGAIN.search(plain)):
                target = g  # "电梯还是没人来啊" from the one who reported the lift, or "狗又叫了"
                break
            if same and (len(shared) >= 2 or len(shared) / max(1, min(len(g["topic"]), len(topic))) >= 0.2
                         or (g["keys"] & keys and (not m.utt.stamped or (g["things"] & things) - _PLACE_CHARS))):
                # two lines of a walk log at the same building are two findings unless about the same thing
                target = g
                break
            if unsure and len(shared) >= 2 and (g["keys"] & keys):
                target = g
                break
        if target is None:
            target = {"category": p.category, "mentions": [], "preds": [], "places": [], "keys": set(),
                      "topic": set(), "things": set(), "responses": [], "first": m.index, "held": held,
                      "flats": set()}
            groups.append(target)
        else:  # someone repeating a problem: where they live is not where the problem is
            # ("对，烧烤那个我也闻到了，我们3号楼都能闻见": 3号楼 is where she smells it, not where the stall is)
            said = [pl for pl in said if not re.search(rf"(?:我们|我家|咱们|俺们|我们家)\s*{re.escape(pl)}", m.text)]
            places, keys = said, place_keys(said)
        target["mentions"].append(m)
        target["preds"].append(p)
        target["places"] += [pl for pl in places if pl not in target["places"]]
        target["keys"] |= keys
        taken_back = [pl for pl in named if pl not in said]
        if taken_back and _SPOKEN_FIX.search(m.text):  # "不是5单元，是4单元": the place said first goes
            target["places"] = [pl for pl in target["places"] if pl not in taken_back]
            target["keys"] = place_keys(target["places"])
        target["topic"] |= topic
        target["things"] |= things
        target["flats"] |= flats
        last = target
        by_utt[id(m.utt)] = target
    _attach_replies(groups, replies, by_utt, utts)
    # A school place, a bus route, a clinic moved away: not community business, but when staff say they will
    # pass it on ("我们帮您把情况反映上去", "通过12345向交通部门反映") it goes into the ledger to be followed up.
    # (a log's writer may say it in the same line: "…能不能进东湖实验小学，我说…帮她把情况反映到街道")
    # A 12345 work order with its own number is filed whatever it is about (the centre tracks it by that
    # number), unless the community sent it back ("非社区职责……退回12345").
    sent_back = {n for u in utts if u.staff and re.search(r"退回|退单|非社区|不属于社区|不属社区", u.text) for n in u.refers_to}
    kept = [g for g in groups if not g["held"] or _forwarded(normalize(" ".join(g["responses"]))) or (
        not g["mentions"][0].utt.speaker and _forwarded(normalize(g["mentions"][0].text)))
        or (_work_order(g) and g["mentions"][0].utt.item not in sent_back)]
    if beyond is not None:
        beyond.extend(summarize(g["mentions"][0].text.strip()) for g in groups if g not in kept)
    groups = kept
    issues = []
    record = community_time(received_at, tax)
    latest = max(record, community_time(now or received_at, tax))
    for g in groups:
        quotes = tuple(m.text.strip() for m in g["mentions"])
        joined = normalize("".join(quotes))
        found = _found_at(g["mentions"][0].utt, record, latest)
        routing = route(g["category"], joined, found or received_at, tax)
        confidence = round(sum(p.confidence for p in g["preds"]) / len(g["preds"]), 4)
        secondary = tuple(dict.fromkeys(s for p in g["preds"] for s in p.secondary if s != g["category"]))
        speakers = tuple(dict.fromkeys(m.utt.speaker or (m.attribution[0] if m.attribution else None)
                                       for m in g["mentions"] if m.utt.speaker or m.attribution))
        issues.append(Issue(
            summary=summarize(quotes[0]),
            category=g["category"],
            category_name=tax.get(g["category"]).name,
            secondary=secondary,
            urgent=routing.urgent,
            owner=routing.owner,
            co_owners=routing.co_owners,
            deadline=routing.deadline,
            location="、".join(g["places"]) or None,
            speakers=speakers,
            mentions=len(quotes),
            quotes=quotes,
            response=" ".join(dict.fromkeys(g["responses"])) or None,
            confidence=confidence,
            needs_review=confidence < tax.review_threshold or g["category"] == fallback,
            notes=tuple(n for n in (*routing.reasons, routing.calendar_note) if n),
            ref=next((m.utt.ref for m in g["mentions"] if m.utt.ref), None),
            received_at=found,
        ))
    return issues


_PART_OF_DAY = {"早上": (8, 0), "上午": (9, 0), "中午": (12, 0), "下午": (14, 0), "晚上": (19, 0)}


def _found_at(utt, record: dt.datetime, now: dt.datetime, max_age_days: int = 92) -> dt.datetime | None:
    """When a finding was made, if the record says so apart from its own date; None: the record's time.

    "09:40 地下车库入口有个大坑" was found at 09:40 of the record's day; under "24号周二" in a log kept over
    the week, on the 24th (at its time, its part of the day, or 09:00), read against the record's date
    unless the heading names month and year. Never after now.
    """
    clock = utt.clock
    if utt.day is not None:
        year, month, day, part = utt.day
        # read against the record: a log of the week of 23 November pasted on 28 December is November's
        bound = min(now.date(), record.date() + dt.timedelta(days=20))
        if month is None:  # "24号": the last 24th up to then
            date = _latest_day(bound, day)
        elif year is not None:
            date = _date_or_none(year, month, day)
        else:  # "1月2日" under a record of 30 December: the latest such day up to then
            date = max((d for d in (_date_or_none(record.year + k, month, day) for k in (-1, 0, 1))
                        if d is not None and d <= bound), default=None)
        if date is not None and date != record.date() and 0 <= (now.date() - date).days <= max_age_days:
            hour, minute = clock or _PART_OF_DAY.get(part or "", (9, 0))
            found = dt.datetime.combine(date, dt.time(hour, minute), tzinfo=record.tzinfo)
            return min(found, now)
    # "9:40 …" under the record's own date: that day at 9:40, not later than now (the record's own time is
    # often only the 09:00 a date without a time is read as)
    found = record.replace(hour=clock[0], minute=clock[1], second=0, microsecond=0) if clock else None
    return found if found is not None and found <= now else None


def _date_or_none(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:  # 2月30日
        return None


def _latest_day(now: dt.date, day: int) -> dt.date | None:
    """The last date up to `now` whose day of the month is `day` ("30号" read on 2 December is 30 November)."""
    year, month = now.year, now.month
    for _ in range(3):  # "31号" early in a month after a 30-day month: two months back
        date = _date_or_none(year, month, day)
        if date is not None and date <= now:
            return date
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return None


def likely_repeats(issues: Sequence[Issue]) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of issues the extractor kept apart that may be one problem: the same category,
    places that agree, and an object in common (水龙头 and 水压, 电梯 and 电梯). For staff to confirm with one
    command; never merged on this alone."""
    seen = []
    for issue in issues:
        topic = _topic(normalize("".join(issue.quotes)))
        places = [p for p in (issue.location or "").split("、") if p]
        seen.append((issue.category, place_keys(places), _thing_chars(_things(topic)) - _PLACE_CHARS))
    pairs = []
    for j, (cat_j, keys_j, things_j) in enumerate(seen):
        for i, (cat_i, keys_i, things_i) in enumerate(seen[:j]):
            if (cat_i == cat_j and not places_conflict(keys_i, keys_j) and (keys_i & keys_j or not (keys_i or keys_j))
                    and things_i & things_j):
                pairs.append((i, j))
                break  # the first earlier issue it resembles is enough to ask about
    return pairs


def _attach_replies(groups: list[dict], replies, by_utt: dict, utts: list[Utterance]) -> None:
    """Give each staff reply to the issue it answers: by item number, place, topic, or adjacency."""
    by_item = {}
    for g in groups:
        for m in g["mentions"]:
            if m.utt.item is not None:
                by_item.setdefault(m.utt.item, g)
    order = {id(u): k for k, u in enumerate(utts)}
    answered: dict[int, dict] = {}  # reply utterance → the issue it answered, for follow-up replies
    for index, utt, sentence in replies:
        text = normalize(sentence)
        targets = []
        prev = utts[order[id(utt)] - 1] if order[id(utt)] > 0 else None
        adjacent = (by_utt.get(id(prev)) or answered.get(id(prev))) if prev is not None else None
        own = by_utt.get(id(utt))  # news paragraphs: quote, attribution and answer in one block
        if own is not None and own["first"] < index:
            adjacent = own
        if adjacent is None and id(utt) in answered:
            adjacent = answered[id(utt)]
        if utt.refers_to == (-1,):  # "处理情况：" right under the item it answers
            targets = [adjacent] if adjacent is not None else []
        elif utt.refers_to:
            targets = [by_item[n] for n in utt.refers_to if n in by_item]
        else:
            before = [g for g in groups if g["first"] < index]
            keys, topic = place_keys(find_places(text)), _topic(text)
            own_line = own is not None and own["first"] < index and not _RECHECK.search(text) and _same_line(
                utt.text, next((x.parts[-1] for x in reversed(own["mentions"]) if x.utt is utt), ""), sentence)
            k = utt.sentences.index(sentence) if sentence in utt.sentences else 0
            head = (utt.sentences[k - 1] if k else prev.text if prev is not None and prev.line == utt.line else "")
            if (not keys and head and (_place_only(normalize(head)) or len(head.strip()) <= 16)
                    and not re.search(r"[；;。.!！?？，,：:]$", head.strip())):  # a heading, not a sentence of its own
                # "10号楼北侧路灯 物业答复灯具已订货": a log line's place, then what was done there
                keys = place_keys(find_places(head))
            best, best_score = None, 0.0
            for g in before:
                score = 2.0 * bool(keys and g["keys"] & keys) + len(_shared(g["topic"], topic))
                if keys and g["keys"] and places_conflict(g["keys"], keys):
                    score = -1
                # under a heading of decisions or announcements a line answers the matter it names, not the
                # one it happens to follow ("二、议定事项 / 下周组织消防安全检查" after a heating ticket)
                score += 0.5 * (g is adjacent and not utt.notice)
                # the rest of the line that reported it: "沿街商铺“老王烧烤” 后厨油烟…。已拍照上报街道城管中队。" is
                # about the 烧烤, though it shares a word with an earlier finding ("车牌已拍照"); a block of answers
                # under the last item ("主路坑洞本周内用沥青修补") still goes to the matter it names
                score += 1.0 * (g is own and own_line)
                if g["held"] and not _forwarded(text) and not _work_order(g):
                    score = -1  # a matter beyond the community takes only a reply that passes it on
                if score > best_score:
                    best, best_score = g, score
            if best is not None and (best_score >= 1 or (best is adjacent and not utt.notice)):
                targets = [best]
        if any(g["held"] and not _work_order(g) for g in targets) and not _forwarded(text):
            # a matter beyond the community takes only a reply that passes it on; the answer under an item that
            # also raised a school place ("车棚僵尸车已拍照…；学区划片请关注…") belongs to the item's own problem
            targets = [g if not g["held"] or _work_order(g) else next(
                (x for x in reversed(groups) if not x["held"] and x["first"] < index
                 and any(m.utt is y.utt for m in g["mentions"] for y in x["mentions"])), None) for g in targets]
            targets = [g for g in targets if g is not None]
        for g in targets:
            g["responses"].append(sentence.strip())
            answered[id(utt)] = g


def _same_line(text: str, first: str, then: str) -> bool:
    """`then` follows `first` on the same line of `text` (an utterance may span lines)."""
    a = text.find(first) if first else -1
    b = text.find(then, a + 1) if a >= 0 else -1
    return a >= 0 and b > a and "\n" not in text[a:b]


# "2026年11月24日", "2026-11-24", "2026/11/24", "2026.11.24", or without the year: "11月24日", "11.24"
_MEETING_DATE = re.compile(r"(?:(?P<y>20\d\d)\s*[年./-]\s*)?(?P<m>1[0-2]|0?[1-9])\s*[月./-]\s*(?P<d>3[01]|[12]\d|0?[1-9])(?:日|号|(?!\d))")


_HEADER_LINE = re.compile(r"^\s*(时间|日期|会议时间|召开时间)|记录|纪要|日志|会议|板凳会|议事会|例会|巡查|台账")
# "下午3点", "下午三点半", "15:00", "晚上7点30" right after the date: when the meeting began
_CLOCK = re.compile(r"^[^\d一二三四五六七八九十]{0,8}?(?P<half>上午|早上|中午|下午|晚上)?\s*"
                    r"(?P<h>[01]?\d|2[0-3]|[一二三四五六七八九十]{1,3})\s*(?:[:：]\s*(?P<m>[0-5]\d)|[点點时時]\s*(?P<m2>[0-5]?\d|半)?)")


def _meeting_clock(after: str) -> tuple[int, int]:
    """(hour, minute) of a time written just after the meeting's date; 下午 alone is 14:00, none is 09:00."""
    after = re.sub(r"^\s*[（(]?(?:周|星期|礼拜)[一二三四五六日天][）)]?", "", after)  # "（周二）下午三点"
    m = _CLOCK.match(after)
    hour = cn_number(m.group("h")) if m else None
    if hour is None or hour > 23:
        # "（11月25日下午）": a part of the day without a time starts at its usual hour
        part = re.match(r"^[\s（(]*(上午|早上|中午|下午|晚上)", after)
        return ({"上午": 9, "早上": 8, "中午": 12, "下午": 14, "晚上": 19}[part.group(1)], 0) if part else (9, 0)
    if m.group("half") in ("下午", "晚上") and hour < 12:
        hour += 12
    minute = m.group("m") or m.group("m2") or "0"
    return hour, 30 if minute == "半" else int(minute)


_DATE_ONLY = re.compile(r"\s*(?:20\d\d\s*[年./-]\s*)?\d{1,2}\s*[月./-]\s*\d{1,2}\s*[日号]?\s*(?:[（(]?(?:星期|周)[一二三四五六日天][）)]?)?"
                        r"\s*(?:上午|下午|晚上|早上|中午)?\s*(?:\d{1,2}\s*[:：点]\s*\d{0,2}(?:[:：]\d{2})?)?\s*")


# "2026年11月17日上午9:30，社区二楼": the record's date and time, then the room it was held in
_DATE_AND_ROOM = re.compile(r"\s*20\d\d\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号]\s*(?:[（(]?(?:星期|周)[一二三四五六日天][）)]?)?"
                            r"\s*(?:上午|下午|晚上|早上|中午)?\s*(?:\d{1,2}\s*[:：点]\s*\d{0,2})?\s*[，,、\s]\s*"
                            r"[^。！？!?，,]{0,14}(?:社区|会议室|活动室|居委会|广场|中心|楼|室|院|亭|下)[^。！？!?，,]{0,6}\s*")


def meeting_date(text: str, now: dt.datetime, *, head_lines: int = 4, max_age_days: int = 92) -> dt.datetime | None:
    """The date a record states in its first lines ("板凳会记录（11月24日下午3点）"), if plausible.

    The time is the one written after the date, else 09:00.

    Staff often paste yesterday's notes: deadlines should count from the meeting, not the paste.
    A date in the future or more than about three months back is ignored (it is about something else).
    """
    lines = [line for line in (text or "").splitlines() if line.strip()][:head_lines]
    for n, line in enumerate(lines):
        head = day_heading(line)  # also the first line: a log may start with "23日（周一）" (a 网格员 trial)
        if head is not None and head[1] is None:  # "23日（周一）" heading a log: the last 23rd up to now
            when = _latest_day(now.date(), head[2])
            if when is not None and (now.date() - when).days <= max_age_days:
                hour, minute = _PART_OF_DAY.get(head[3] or "", (9, 0))
                return min(dt.datetime.combine(when, dt.time(hour, minute), tzinfo=now.tzinfo), now)
            continue
        if n and not (_HEADER_LINE.search(line) or _DATE_ONLY.fullmatch(line) or _DATE_AND_ROOM.fullmatch(line)):
            continue  # a date in what residents say is about something else; "2026-11-24 19:00" alone is the record's
        plain = normalize(line)
        for found in _MEETING_DATE.finditer(plain):
            year = int(found["y"]) if found["y"] else now.year
            hour, minute = _meeting_clock(plain[found.end():])
            try:
                day = dt.datetime(year, int(found["m"]), int(found["d"]), hour, minute, tzinfo=now.tzinfo)
            except ValueError:
                continue
            if not found["y"] and day.date() > now.date():
                day = day.replace(year=year - 1)  # "12月30日" read in January
            if dt.timedelta(0) <= now - day + dt.timedelta(hours=15) and (now - day).days <= max_age_days:
                return day if day <= now else now
    return None
