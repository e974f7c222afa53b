import pytest

from triage.normalize import has_traditional, normalize, to_simplified

GOLDEN = [
    ("孫曉東(sūnxiǎodōng)說社區(qū)電梯壞了", "孙晓东说社区电梯坏了"),
    ("社区(shequ)的WiFi(WiFi)坏了 (A区)", "社区的WiFi(WiFi)坏了 (A区)"),
    ("<p>楼道&nbsp;堆物&amp;杂物</p>", "楼道 堆物&杂物"),
    ("充\u200b电桩\u3000\u3000不够\ufeff", "充电桩 不够"),
    ("ＡＢＣ１２３号楼", "ABC123号楼"),
    ("  第一行\n\n\n第二行  ", "第一行\n第二行"),
    ("停車場沒有車位了，請儘快處理", "停车场没有车位了,请尽快处理"),
    ("", ""),
]


@pytest.mark.parametrize("raw, expected", GOLDEN)
def test_golden_normalisation(raw, expected):
    assert normalize(raw) == expected


def test_simplified_text_skips_the_converter():
    assert not has_traditional("小区电梯坏了")
    assert has_traditional("電梯")
    assert to_simplified("小区电梯坏了") == "小区电梯坏了"


def test_emoji_and_symbols_survive():
    assert normalize("😡😡电梯坏了") == "😡😡电梯坏了"


def test_fast_conversion_agrees_with_opencc_on_our_texts():
    from opencc import OpenCC

    from triage.examples import default_training_files, load_examples

    converter = OpenCC("t2s")
    texts = [e.text for e in load_examples(default_training_files()) if has_traditional(e.text)]
    assert len(texts) > 300
    assert [to_simplified(t) for t in texts] == [converter.convert(t) for t in texts]
