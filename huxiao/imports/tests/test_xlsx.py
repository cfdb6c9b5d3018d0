"""The .xlsx reader on files as Excel and WPS write them (shared strings, zh-CN date formats),
not only as openpyxl writes them."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from huxiao.imports.tests.sheets import xlsx
from huxiao.imports.xlsx import FirstSheet, WorkbookError

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def handmade(sheets: list[tuple[str, str, str]], *, shared=None, styles=None, date1904=False):
    """sheets: (name, state, sheetData xml). Written the way Excel does: shared strings,
    styles part, relationships with relative targets."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
            f"</Relationships>",
        )
        sheet_entries, rels = [], []
        for index, (name, state, data) in enumerate(sheets, start=1):
            sheet_entries.append(
                f'<sheet name="{name}" sheetId="{index}" state="{state}" r:id="rId{index}"/>'
            )
            rels.append(
                f'<Relationship Id="rId{index}" Type="{REL}/worksheet" '
                f'Target="worksheets/sheet{index}.xml"/>'
            )
            archive.writestr(
                f"xl/worksheets/sheet{index}.xml",
                f'<worksheet {NS}><dimension ref="A1:C9"/><sheetData>{data}</sheetData></worksheet>',
            )
        if shared is not None:
            rels.append(
                f'<Relationship Id="rS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            )
            archive.writestr("xl/sharedStrings.xml", f"<sst {NS}>{shared}</sst>")
        if styles is not None:
            rels.append(f'<Relationship Id="rT" Type="{REL}/styles" Target="/xl/styles.xml"/>')
            archive.writestr("xl/styles.xml", f"<styleSheet {NS}>{styles}</styleSheet>")
        pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
        archive.writestr(
            "xl/workbook.xml",
            f"<workbook {NS} {R_NS}>{pr}<sheets>{''.join(sheet_entries)}</sheets></workbook>",
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{''.join(rels)}</Relationships>",
        )
    return buffer.getvalue()


def rows_of(data: bytes) -> list[tuple]:
    sheet = FirstSheet(data)
    try:
        return list(sheet.rows)
    finally:
        sheet.close()


def test_excel_style_file_with_shared_strings_and_chinese_dates():
    shared = (
        "<si><t>姓名</t></si>"
        '<si><r><t>王</t></r><r><rPr><b/></rPr><t>小明</t></r><rPh sb="0" eb="1"><t>wang</t></rPh></si>'
        "<si><t>出生日期</t></si>"
    )
    # Style 1 uses built-in format 31 (yyyy年m月d日), style 2 a custom date, style 3 a number.
    styles = (
        '<numFmts count="1"><numFmt numFmtId="176" formatCode="yyyy/m/d;@"/></numFmts>'
        '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="31"/><xf numFmtId="176"/>'
        '<xf numFmtId="2"/></cellXfs>'
    )
    data = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>2</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>1</v></c><c r="B3" s="1"><v>44259</v></c>'
        '<c r="C3" s="3"><v>1.5</v></c></row>'
        '<row r="4"><c r="B4" s="2"><v>44260</v></c><c r="C4" t="b"><v>1</v></c>'
        '<c r="D4" t="str"><f>A1</f><v>公式</v></c><c r="E4" t="e"><v>#N/A</v></c></row>'
    )
    rows = rows_of(handmade([("名册", "visible", data)], shared=shared, styles=styles))
    assert rows[0] == ("姓名", "出生日期")
    assert rows[1] == ()  # row 2 is not in the file
    assert rows[2] == ("王小明", dt.datetime(2021, 3, 4), 1.5)
    assert rows[3] == (None, dt.datetime(2021, 3, 5), True, "公式", "#N/A")


def test_hidden_sheets_are_skipped_and_1904_dates():
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    hidden = '<row r="1"><c r="A1" t="inlineStr"><is><t>hidden</t></is></c></row>'
    shown = '<row r="1"><c r="A1" s="1"><v>1</v></c><c r="C1"><v>7</v></c></row>'
    data = handmade(
        [("说明", "hidden", hidden), ("名册", "visible", shown)], styles=styles, date1904=True
    )
    assert rows_of(data) == [(dt.datetime(1904, 1, 2), None, 7)]


def test_openpyxl_files_and_the_size_record():
    data = xlsx(["a", "b"], [[1, dt.date(2020, 1, 2)], [], ["x", None]])
    sheet = FirstSheet(data)
    rows = list(sheet.rows)
    assert sheet.estimated_rows == 4
    sheet.close()
    assert rows[0] == ("a", "b")
    assert rows[1] == (1, dt.datetime(2020, 1, 2))
    assert rows[2] == ()
    assert rows[3] == ("x",)


@pytest.mark.parametrize(
    "sheet_data",
    ['<row r="1"><c r="A1" t="s"><v>9</v></c></row>', '<row r="1"><c r="A1"><v>abc</v></c>'],
)
def test_damaged_sheets_are_a_user_message(sheet_data):
    data = handmade([("s", "visible", sheet_data)], shared="<si><t>x</t></si>")
    with pytest.raises(WorkbookError) as error:
        rows_of(data)
    assert "damaged" in str(error.value.message)


def test_a_workbook_without_worksheets():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", f"<workbook {NS}><sheets/></workbook>")
    with pytest.raises(WorkbookError) as error:
        FirstSheet(buffer.getvalue())
    assert "no worksheet" in str(error.value.message)


def test_entity_declarations_do_not_expand():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
        '<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
        '<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
        '<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
        '<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
        '<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>'
    )
    buffer = io.BytesIO()
    source = handmade(
        [("s", "visible", '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>')]
    )
    with zipfile.ZipFile(io.BytesIO(source)) as original, zipfile.ZipFile(buffer, "w") as archive:
        for info in original.infolist():
            content = original.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = bomb.encode() + content
            archive.writestr(info.filename, content)
    with pytest.raises(WorkbookError):
        rows_of(buffer.getvalue())
