"""Phonetic keys of Chinese names, for screening by name (ADR 0017).

A name becomes one set of readings per character: toneless pinyin — every reading of the
surname (曾 ceng/zeng, 单 dan/shan), the usual one of the other characters — each folded so
that the sounds people confuse or type interchangeably become one:

- zh/z, ch/c, sh/s and n/l at the start of a syllable (northern and southern accents alike,
  and the usual fuzzy-pinyin settings of input methods);
- -ng/-n at the end (ang/an, eng/en, ing/in, iang/ian, uang/uan);
- ü written v or u (吕 lv / lu).

Two names match when every character sounds the same (homophones: 张三丰 / 章三峰), or all
but one character of the given name do and that one is a typing slip of one letter (王兵 /
王平), or — for names of three characters or more, where two matching characters still say
a lot — is any other character (a look-alike: 王玉明 / 王王明), or one character of the given
name is missing or extra (张三丰 / 张丰). The surname must sound the same. Matching is only
ever done among people born on the same day, which is what keeps a one-character tolerance
from holding half the county.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, pinyin

NameKey = tuple[frozenset[str], ...]

# Surnames read otherwise than their character's usual reading (百家姓), with both
# readings: the gate may hear or type either.
SURNAME_READINGS = {
    "曾": ("zeng", "ceng"),
    "单": ("shan", "dan"),
    "解": ("xie", "jie"),
    "仇": ("qiu", "chou"),
    "朴": ("piao", "pu"),
    "区": ("ou", "qu"),
    "查": ("zha", "cha"),
    "盖": ("ge", "gai"),
    "尉": ("yu", "wei"),
    "乐": ("yue", "le"),
    "缪": ("miao", "mou"),
    "覃": ("qin", "tan"),
    "秘": ("bi", "mi"),
    "员": ("yun", "yuan"),
    "种": ("chong", "zhong"),
    "重": ("chong", "zhong"),
    "召": ("shao", "zhao"),
    "牟": ("mou", "mu"),
    "翟": ("zhai", "di"),
    "万": ("wan", "mo"),
    "长": ("chang", "zhang"),
    "柏": ("bai", "bo"),
    "折": ("she", "zhe"),
    "繁": ("po", "fan"),
    "句": ("gou", "ju"),
    "洗": ("xian", "xi"),
    "黑": ("he", "hei"),
    "隗": ("wei", "kui"),
    "尹": ("yin",),
    "阚": ("kan",),
}
# Characters common in names whose reading depends on the word (长 in 长江 and 长大): pypinyin
# may read them one way in one name and the other way in a homophone, so both count.
NAME_HETERONYMS = {
    "长": ("chang", "zhang"),
    "乐": ("le", "yue"),
    "行": ("xing", "hang"),
    "朝": ("chao", "zhao"),
    "重": ("zhong", "chong"),
    "传": ("chuan", "zhuan"),
    "强": ("qiang", "jiang"),
    "和": ("he", "huo"),
    "都": ("du", "dou"),
    "盛": ("sheng", "cheng"),
    "奇": ("qi", "ji"),
    "茜": ("qian", "xi"),
    "少": ("shao",),
    "莘": ("shen", "xin"),
    "蔚": ("wei", "yu"),
    "还": ("huan", "hai"),
    "降": ("jiang", "xiang"),
    "兴": ("xing",),
    "正": ("zheng",),
    "大": ("da", "dai"),
    "华": ("hua",),
    "露": ("lu", "lou"),
    "乾": ("qian", "gan"),
}
_HAN_OR_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def fold(syllable: str) -> str:
    """One toneless pinyin syllable in its folded form."""
    s = syllable.lower().replace("ü", "v").replace("v", "u")
    if s[:2] in ("zh", "ch", "sh"):
        s = s[0] + s[2:]
    elif s.startswith("n") and len(s) > 1 and s != "ng":
        s = "l" + s[1:]
    if len(s) > 2 and s.endswith("ng"):
        s = s[:-1]
    return s


@lru_cache(maxsize=4096)
def name_key(name: str) -> NameKey:
    """The phonetic key of a name: one frozenset of folded readings per character.

    Separators (the middle dot of minority names, spaces) are ignored; a run of Latin
    letters or digits counts as one "character" spelled as typed.
    """
    text = unicodedata.normalize("NFKC", str(name or "")).lower()
    key: list[frozenset[str]] = []
    for run in _HAN_OR_WORD.findall(text):
        if _HAN.match(run):
            # The surname's own reading beside the usual one (曾 zeng/ceng, 单 shan/dan);
            # the usual reading of the other characters, in context — every dictionary
            # reading would make too many names sound alike (王 also reads yu, 任 lin).
            first = not key
            readings_per_char = pinyin(run, style=Style.NORMAL, heteronym=False, errors="ignore")
            if first and readings_per_char:
                extra = SURNAME_READINGS.get(run[0], ())
                readings_per_char[0] = sorted(set(readings_per_char[0]) | set(extra))
            for offset, readings in enumerate(readings_per_char):
                if offset < len(run) and run[offset] in NAME_HETERONYMS:
                    readings = set(readings) | set(NAME_HETERONYMS[run[offset]])
                folded = frozenset(fold(r) for r in readings if r)
                if folded:
                    key.append(folded)
        else:
            key.append(frozenset({run}))
    return tuple(key)


def encode(key: NameKey) -> str:
    """`ceng,zeng|guo|fan`: the form kept (encrypted) with each record."""
    return "|".join(",".join(sorted(readings)) for readings in key)


def decode(text: str) -> NameKey:
    if not text:
        return ()
    return tuple(frozenset(part.split(",")) for part in text.split("|"))


def _same(a: frozenset[str], b: frozenset[str]) -> bool:
    return not a.isdisjoint(b)


def _one_edit(a: str, b: str) -> bool:
    """Equal, or one letter substituted, inserted or deleted."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    if la > lb:
        a, b = b, a
    # b is one letter longer: skip one letter of b.
    return any(a == b[:i] + b[i + 1 :] for i in range(len(b)))


def _near(a: frozenset[str], b: frozenset[str]) -> bool:
    return any(_one_edit(x, y) for x in a for y in b)


def compare(query: NameKey, candidate: NameKey) -> str:
    """Why two names match — "sound", "typo", "character", "missing" — or "" if they do
    not (see the module docstring)."""
    n, m = len(query), len(candidate)
    if n < 2 or m < 2:
        return ""  # no real name has one character; one sound says nothing
    if n == m:
        differing = [i for i in range(n) if not _same(query[i], candidate[i])]
        if not differing:
            return "sound"
        # Slips and look-alikes in the given name only: a surname is known and said
        # aloud, and letting it differ too would hold every namesake born that day.
        if len(differing) > 1 or differing[0] == 0:
            return ""
        i = differing[0]
        if _near(query[i], candidate[i]):
            return "typo"
        return "character" if n >= 3 else ""
    if abs(n - m) == 1 and min(n, m) >= 2:
        longer, shorter = (query, candidate) if n > m else (candidate, query)
        for skip in range(1, len(longer)):
            rest = longer[:skip] + longer[skip + 1 :]
            if all(_same(x, y) for x, y in zip(rest, shorter, strict=True)):
                return "missing"
    return ""
