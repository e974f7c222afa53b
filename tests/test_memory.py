"""Corrections that take effect at once, for repeats of a corrected message."""

from triage.memory import CorrectionMemory
from triage.normalize import normalize

from .conftest import NOW

# Staff decided this one is for the property company (the drain is theirs to clear), twice: the later label wins.
CORRECTED = [("楼下那家店天天往下水道倒油，井盖边上一股味", "environment"),
             ("楼下那家店天天往下水道倒油，井盖边上一股味", "property")]


def test_a_repeat_of_a_corrected_message_takes_the_corrected_category(model):
    memory = CorrectionMemory(model.engine, CORRECTED)
    assert len(memory) == 1
    repeat = "楼下那家店天天往下水道倒油！井盖边上一股味。"
    unrelated = "3号楼电梯坏了两天，老人下不了楼"
    hit, miss = memory.recall([normalize(repeat), normalize(unrelated)])
    assert hit.category == "property" and hit.similarity >= 0.9 and miss is None
    assert model.classify(repeat, NOW).category != "property"  # the model alone says otherwise
    results = model.classify_many([repeat, unrelated], NOW, memory)
    assert results[0].category == "property" and not results[0].needs_review
    assert results[0].owner == model.taxonomy.get("property").owner  # re-routed, not just relabelled
    assert any("已更正" in n for n in results[0].notes)
    assert results[1].category == model.classify(unrelated, NOW).category  # others are untouched


def test_an_empty_memory_changes_nothing(model):
    memory = CorrectionMemory(model.engine, [])
    text = "东门路灯坏了半个月"
    assert model.classify(text, NOW, memory) == model.classify(text, NOW)
