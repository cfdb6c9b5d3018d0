"""The Chinese catalog is complete and its compiled .mo matches the .po."""

import ast
import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "huxiao" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries():
    """(msgctxt, msgid, msgid_plural, [msgstr...]) for each entry; simple .po reader."""
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if fields.get("msgid"):
            strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            yield fields.get("msgctxt"), fields["msgid"], fields.get("msgid_plural"), strs


def test_every_message_has_a_chinese_translation():
    untranslated = [msgid for _c, msgid, _p, strs in _entries() if not all(strs)]
    assert untranslated == []


def test_compiled_catalog_matches_the_po():
    stale = []
    with translation.override("zh-hans"):
        for context, msgid, plural, strs in _entries():
            if context or plural:
                continue
            if translation.gettext(msgid) != strs[0]:
                stale.append(msgid)
    assert stale == [], "run `make messages` (compilemessages) and commit the .mo"
