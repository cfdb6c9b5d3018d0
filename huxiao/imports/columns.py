"""The columns of each roster spreadsheet: headers, accepted aliases and value types.

The Chinese headers and the Chinese words written into exports are part of the *file
format* schools exchange with the education office, not interface text: they stay Chinese
whatever language the page is shown in, and English headers are accepted on import as
aliases. The labels shown on pages are translatable as usual.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from huxiao.core.idcard import make_id_number
from huxiao.imports.choices import ImportKind
from huxiao.people.choices import BackgroundCheck, Gender, Relationship, StaffRole

_IGNORED_CHARS = re.compile(r"[\s_\-*＊:：]")
# "出生日期(可选)", "可接送（是/否）": the hint in brackets is not part of the name.
_BRACKET_SUFFIX = re.compile(r"[（(][^()（）]*[)）]$")


def normalize_header(text) -> str:
    normalized = _IGNORED_CHARS.sub("", str(text or "")).lower()
    return _BRACKET_SUFFIX.sub("", normalized)


# Value types decide how a cell is cleaned, shown in the preview and written on export.
TEXT, ID_NUMBER, GENDER, RELATIONSHIP, ROLE, BACKGROUND, BOOL, DATE = (
    "text",
    "id_number",
    "gender",
    "relationship",
    "role",
    "background",
    "bool",
    "date",
)


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as written in the template and in exports
    label: Promise  # as shown on pages
    aliases: tuple[str, ...] = ()
    required: bool = True  # the column must be present (values are checked separately)
    value_type: str = TEXT
    example: object = ""

    def accepted_names(self) -> set[str]:
        return {normalize_header(name) for name in (self.header, *self.aliases)}


# Words written into exports and offered in the template's drop-downs. Each word is one the
# import accepts (people.validation aliases); a test keeps the two in step.
GENDER_WORDS = {Gender.MALE: "男", Gender.FEMALE: "女"}
RELATIONSHIP_WORDS = {
    Relationship.FATHER: "父亲",
    Relationship.MOTHER: "母亲",
    Relationship.GRANDFATHER: "祖父",
    Relationship.GRANDMOTHER: "祖母",
    Relationship.RELATIVE: "其他亲属",
    Relationship.OTHER: "其他",
}
ROLE_WORDS = {
    StaffRole.PRINCIPAL: "校长",
    StaffRole.VICE_PRINCIPAL: "副校长",
    StaffRole.TEACHER: "教师",
    StaffRole.CHILDCARE: "保育员",
    StaffRole.SECURITY_OFFICER: "安保干部",
    StaffRole.GUARD: "门卫",
    StaffRole.HEALTH_STAFF: "校医",
    StaffRole.COOK: "厨师",
    StaffRole.DRIVER: "驾驶员",
    StaffRole.DORMITORY_MANAGER: "宿管员",
    StaffRole.OTHER: "其他",
}
BACKGROUND_WORDS = {
    BackgroundCheck.NOT_DONE: "未审查",
    BackgroundCheck.PENDING: "审查中",
    BackgroundCheck.PASSED: "通过",
    BackgroundCheck.FAILED: "未通过",
}
BOOL_WORDS = {True: "是", False: "否"}

WORDS_BY_TYPE = {
    GENDER: GENDER_WORDS,
    RELATIONSHIP: RELATIONSHIP_WORDS,
    ROLE: ROLE_WORDS,
    BACKGROUND: BACKGROUND_WORDS,
    BOOL: BOOL_WORDS,
}
CHOICES_BY_TYPE = {
    GENDER: Gender,
    RELATIONSHIP: Relationship,
    ROLE: StaffRole,
    BACKGROUND: BackgroundCheck,
}

# Example rows use the test region 110101 and a date far from any real enrolment window;
# the validator skips a row identical to the example, so leaving it in is harmless.
_EXAMPLE_CHILD_ID = make_id_number("110101", dt.date(2021, 3, 4), 12)
_EXAMPLE_ADULT_ID = make_id_number("110101", dt.date(1990, 1, 1), 1)

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.CLASSES: (
        Column(
            "name",
            "班级名称",
            _("Class name"),
            ("班级", "class", "class name", "name"),
            example="示例小一班",
        ),
        Column("grade", "年级", _("Grade"), ("grade",), required=False, example="小班"),
        Column(
            "head_teacher",
            "班主任(可选)",
            _("Head teacher"),
            ("head teacher", "headteacher", "teacher"),
            required=False,
            example="",
        ),
    ),
    ImportKind.CHILDREN: (
        Column(
            "school_class",
            "班级",
            _("Class"),
            ("班级名称", "class", "class name"),
            example="示例小一班",
        ),
        Column(
            "name",
            "姓名",
            _("Name"),
            ("幼儿姓名", "学生姓名", "name", "child name"),
            example="示例王小明",
        ),
        Column("gender", "性别", _("Gender"), ("gender", "sex"), value_type=GENDER, example="男"),
        Column(
            "id_number",
            "身份证号",
            _("Resident ID number"),
            ("身份证号码", "公民身份号码", "id number", "id", "id card"),
            value_type=ID_NUMBER,
            example=_EXAMPLE_CHILD_ID,
        ),
        Column(
            "birth_date",
            "出生日期(可选)",
            _("Birth date"),
            ("birth date", "date of birth", "birthday"),
            required=False,
            value_type=DATE,
            example=dt.date(2021, 3, 4),
        ),
    ),
    ImportKind.GUARDIANS: (
        Column(
            "child_id_number",
            "幼儿身份证号",
            _("Child's resident ID number"),
            ("幼儿身份证号码", "学生身份证号", "child id number", "child id"),
            value_type=ID_NUMBER,
            example=_EXAMPLE_CHILD_ID,
        ),
        Column(
            "name",
            "监护人姓名",
            _("Guardian's name"),
            ("姓名", "name", "guardian name", "guardian"),
            example="示例王芳",
        ),
        Column(
            "relationship",
            "关系",
            _("Relationship"),
            ("与幼儿关系", "relationship", "relation"),
            value_type=RELATIONSHIP,
            example="母亲",
        ),
        Column(
            "phone",
            "电话",
            _("Phone"),
            ("手机", "手机号", "联系电话", "phone", "mobile"),
            example="13800138000",
        ),
        Column(
            "can_pick_up",
            "可接送(是/否)",
            _("Authorised to pick up"),
            ("can pick up", "pick up", "pickup"),
            required=False,
            value_type=BOOL,
            example="是",
        ),
        Column(
            "is_primary",
            "主要联系人(是/否)",
            _("Primary contact"),
            ("primary contact", "primary", "is primary"),
            required=False,
            value_type=BOOL,
            example="是",
        ),
        Column(
            "id_number",
            "监护人身份证号(可选)",
            _("Guardian's resident ID number"),
            ("guardian id number", "id number"),
            required=False,
            value_type=ID_NUMBER,
            example="",
        ),
    ),
    ImportKind.STAFF: (
        Column("name", "姓名", _("Name"), ("name",), example="示例李华"),
        Column(
            "role", "岗位", _("Post"), ("职务", "post", "role"), value_type=ROLE, example="门卫"
        ),
        Column(
            "phone",
            "电话",
            _("Phone"),
            ("手机", "手机号", "联系电话", "phone", "mobile"),
            required=False,
            example="13900139000",
        ),
        Column(
            "id_number",
            "身份证号(可选)",
            _("Resident ID number"),
            ("身份证号码", "id number", "id"),
            required=False,
            value_type=ID_NUMBER,
            example=_EXAMPLE_ADULT_ID,
        ),
        Column(
            "background_check",
            "背景审查",
            _("Background check"),
            ("审查结果", "background check"),
            required=False,
            value_type=BACKGROUND,
            example="通过",
        ),
        Column(
            "background_checked_on",
            "审查日期",
            _("Background check date"),
            ("background check date", "check date"),
            required=False,
            value_type=DATE,
            example=dt.date(2024, 8, 20),
        ),
    ),
}

# Exports add context a reader needs (whose guardian is this?); imports ignore them.
EXPORT_EXTRA_COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.GUARDIANS: (
        Column("child_name", "幼儿姓名", _("Child"), required=False),
        Column("child_class", "所在班级", _("Class"), required=False),
    ),
}

# Sheet names of templates and exports (file format, like the headers).
SHEET_TITLES = {
    ImportKind.CLASSES: "班级",
    ImportKind.CHILDREN: "幼儿",
    ImportKind.GUARDIANS: "监护人",
    ImportKind.STAFF: "教职工",
}
# English file names: browsers and old mail gateways mangle non-ASCII names.
FILE_STEMS = {
    ImportKind.CLASSES: "classes",
    ImportKind.CHILDREN: "children",
    ImportKind.GUARDIANS: "guardians",
    ImportKind.STAFF: "staff",
}


def columns_for(kind: str) -> tuple[Column, ...]:
    return COLUMNS[kind]


def file_word(value_type: str, value) -> str:
    """The word written into a spreadsheet for a stored value."""
    if value is None or value == "":
        return ""
    words = WORDS_BY_TYPE.get(value_type)
    if words is not None:
        return words.get(value, str(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return spreadsheet_safe(str(value))


# Text a spreadsheet program would run as a formula (CSV/formula injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Keep user text as text: a leading apostrophe stops Excel/WPS reading a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def page_label(value_type: str, value) -> str:
    """The text shown on a page for a cleaned value, in the active language."""
    if value is None or value == "":
        return ""
    if value_type == BOOL:
        return str(_("Yes") if value else _("No"))
    choices = CHOICES_BY_TYPE.get(value_type)
    if choices is not None:
        return str(choices(value).label)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
