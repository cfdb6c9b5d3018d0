"""Phonetic keys and name matching (no database)."""

import pytest

from huxiao.intel.phonetic import compare, decode, encode, fold, name_key


@pytest.mark.parametrize(
    ("syllable", "folded"),
    [
        ("zhang", "zan"),
        ("zang", "zan"),
        ("chen", "cen"),
        ("sheng", "sen"),
        ("ning", "lin"),
        ("ling", "lin"),
        ("lv", "lu"),
        ("nü", "lu"),
        ("wang", "wan"),
        ("a", "a"),
    ],
)
def test_fold(syllable, folded):
    assert fold(syllable) == folded


def test_name_key_has_every_reading_and_ignores_separators():
    key = name_key("曾 国·藩")
    assert len(key) == 3
    assert {"cen", "zen"} <= key[0]
    assert decode(encode(key)) == key
    assert name_key("") == ()
    assert name_key("·  ") == ()
    assert name_key("Li Lei") == (frozenset({"li"}), frozenset({"lei"}))


@pytest.mark.parametrize(
    ("query", "registered", "why"),
    [
        ("张三丰", "张三丰", "sound"),
        ("章三峰", "张三丰", "sound"),  # homophones
        ("赵志刚", "照志钢", "sound"),
        ("曾国藩", "曾国帆", "sound"),  # 曾 read ceng or zeng
        ("陈伟", "岑伟", "sound"),  # ch/c
        ("刘宁", "牛林", "sound"),  # n/l on both syllables, -ng/-n
        ("王兵", "王平", "typo"),  # bing/ping: one letter
        ("李明", "李敏", "sound"),  # ming/min: -ng/-n
        ("王伟", "王歪", "typo"),  # wei/wai
        ("王玉明", "王王明", "character"),  # a look-alike in a three-character name
        ("张三丰", "张丰", "missing"),
        ("张丰", "张三丰", "missing"),
    ],
)
def test_names_that_match(query, registered, why):
    assert compare(name_key(query), name_key(registered)) == why


@pytest.mark.parametrize(
    ("query", "registered"),
    [
        ("张三", "李四"),
        ("张三", "张飞"),  # two-character names: a different given name is another person
        ("王伟", "李刚"),
        ("欧阳修文", "张三"),
        ("张", "张"),  # one character says nothing
        ("王兵", "王军"),
        ("张三丰", "李四海"),
        ("王大明", "王小红"),
    ],
)
def test_names_that_do_not(query, registered):
    assert compare(name_key(query), name_key(registered)) == ""
