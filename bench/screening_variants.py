"""Names for bench/screening: a generated population, and the ways a gate gets a name wrong.

Characters come from GB 2312 level 1 (the 3,755 most common characters), so that the
homophones and near-sounds picked for the variants are characters people really type.
Readings are pypinyin's usual reading of each character on its own; the variants are built
from those single-character readings, not from the matcher under test, so recall measures
the matcher honestly (context readings, heteronyms and all).
"""

from __future__ import annotations

import random
from collections import defaultdict
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
)
SURNAME_WEIGHTS = tuple(
    9 if i < 4 else 5 if i < 10 else 3 if i < 25 else 1 for i in range(len(SURNAMES))
)
GIVEN = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁建国志海峰东亮永健立兵芳娜敏静丽艳娟霞燕玲"
    "丹萍红莉琳颖慧洁晶梅雪倩英春秀桂兰珍凤玉芬淑琴荣翠云花莲浩宇轩子博文俊晨睿泽铭豪"
    "天一航凯瑞嘉乐思成旭阳昊然奕辰哲远毅智欣怡梓涵诗雨佳琪萱悦彤可馨婷雅妍媛语晴菲梦"
    "若瑶璐露德福庆长树林富贵学忠发仁义山金宝生力新振兴光军民安红小大中少新春秋"
)


@lru_cache(maxsize=1)
def common_chars() -> tuple[str, ...]:
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                ch = bytes([high, low]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            chars.append(ch)
    return tuple(chars)


def reading(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL)[0]


@lru_cache(maxsize=1)
def chars_by_reading() -> dict[str, list[str]]:
    index: dict[str, list[str]] = defaultdict(list)
    for ch in common_chars():
        r = reading(ch)
        if r.isalpha():
            index[r].append(ch)
    return dict(index)


def _fuzzy_partners(r: str) -> list[str]:
    """Readings one accent away: zh/z, ch/c, sh/s, n/l at the start; -ng/-n at the end."""
    out = []
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if r.startswith(a):
            out.append(b + r[len(a) :])
        elif r.startswith(b) and not r.startswith(a):
            out.append(a + r[len(b) :])
    if r.startswith("n") and r != "ng":
        out.append("l" + r[1:])
    elif r.startswith("l"):
        out.append("n" + r[1:])
    if r.endswith("ng"):
        out.append(r[:-1])
    elif r.endswith("n"):
        out.append(r + "g")
    return out


def _typo_partners(r: str) -> list[str]:
    """Readings one letter away that are not the same sound folded (a real slip)."""
    letters = "abcdefghijklmnopqrstuwxyz"
    index = chars_by_reading()
    partners = set()
    for i in range(len(r)):
        for c in letters:
            partners.add(r[:i] + c + r[i + 1 :])
        partners.add(r[:i] + r[i + 1 :])
    for i in range(len(r) + 1):
        for c in letters:
            partners.add(r[:i] + c + r[i:])
    partners.discard(r)
    fuzzy = set(_fuzzy_partners(r))
    return sorted(p for p in partners if p in index and p not in fuzzy)


def random_name(rng: random.Random) -> str:
    surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    given = "".join(rng.sample(GIVEN, 2)) if rng.random() < 0.6 else rng.choice(GIVEN)
    return surname + given


def _swap(rng: random.Random, name: str, position: int, partner_readings: list[str]) -> str | None:
    index = chars_by_reading()
    choices = [ch for r in partner_readings for ch in index.get(r, ()) if ch != name[position]]
    if not choices:
        return None
    return name[:position] + rng.choice(choices) + name[position + 1 :]


KINDS = ("homophone", "fuzzy_sound", "typo", "missing", "surname_homophone")


def variant(rng: random.Random, name: str, kind: str) -> tuple[str, str]:
    """A misspelt form of `name` of the given kind (or the nearest kind that applies):
    (variant, kind actually used)."""
    positions = list(range(1, len(name)))
    rng.shuffle(positions)
    if kind == "missing" and len(name) >= 3:
        drop = rng.randrange(1, len(name))
        return name[:drop] + name[drop + 1 :], kind
    if kind == "surname_homophone":
        swapped = _swap(rng, name, 0, [reading(name[0])])
        if swapped:
            return swapped, kind
    for position in positions:
        r = reading(name[position])
        if kind == "fuzzy_sound":
            swapped = _swap(rng, name, position, _fuzzy_partners(r))
        elif kind == "typo":
            swapped = _swap(rng, name, position, _typo_partners(r))
        else:
            swapped = None
        if swapped:
            return swapped, kind
    for position in positions:  # homophone, and the fallback of every kind
        swapped = _swap(rng, name, position, [reading(name[position])])
        if swapped:
            return swapped, "homophone"
    return name, "same"
