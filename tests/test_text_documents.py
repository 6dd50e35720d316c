"""``monitor check text`` on the files offices proofread: Word, PDF, text in UTF-8 / GBK — and a clear
refusal (exit 2) for anything it cannot read, so an unreadable file is never reported clean."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from monitor.app.cli import main

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the first bytes of .doc / .wps / .xls
ERROR_LINE = "自中华人民共合国成立以来，我县安全生产形势总体平稳。"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no ./config.yaml: the built-in rules only
    monkeypatch.setenv("MONITOR_NOW", "2026-11-26T09:30:00+08:00")
    return CliRunner()


def rows_of(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def word_file(path: Path, body: list[str], table_cell: str = "", header: str = "") -> Path:
    """A real .docx written by python-docx: paragraphs, a table and a page header."""
    d = docx.Document()
    for text in body:
        d.add_paragraph(text)
    if table_cell:
        d.add_table(rows=1, cols=2).cell(0, 1).text = table_cell
    if header:
        d.sections[0].header.paragraphs[0].text = header
    d.save(str(path))
    return path


def pdf_file(path: Path, lines: list[str]) -> Path:
    """A one-page PDF whose text layer holds ``lines`` (a Type0 font with a ToUnicode map, as Word's
    "save as PDF" writes CJK text); ``lines == []`` gives a page with no text layer (a scan)."""
    chars = sorted({c for line in lines for c in line})
    cid = {c: i + 1 for i, c in enumerate(chars)}
    ops = ["BT", "/F1 12 Tf", "14 TL", "50 800 Td"]
    for line in lines:
        ops.append("<" + "".join(f"{cid[c]:04X}" for c in line) + "> Tj T*")
    ops.append("ET")
    content = "\n".join(ops).encode() if lines else b""
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(chars)} beginbfchar\n"
        + "".join(f"<{cid[c]:04X}> <{ord(c):04X}>\n" for c in chars)
        + "endbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H"
        b" /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_word_file_with_an_error_is_never_clean(cli: CliRunner, tmp_path: Path) -> None:
    path = word_file(
        tmp_path / "通知.docx",
        ["关于做好冬季安全生产工作的通知", ERROR_LINE],
        table_cell="请各乡镇认真布署。",
        header="示例县应急管理局",
    )
    res = cli.invoke(main, ["check", "text", "--format", "json", str(path)])
    assert res.exit_code == 1, res.output
    assert [(r["line"], r["wrong"], r["suggestion"]) for r in rows_of(res.stdout)] == [
        (2, "中华人民共合国", "中华人民共和国"),
        (4, "布署", "部署"),  # the table's second cell (paragraph 4), read in document order
    ]


def test_a_docx_renamed_txt_is_still_read_as_word(cli: CliRunner, tmp_path: Path) -> None:
    path = word_file(tmp_path / "draft.docx", [ERROR_LINE])
    renamed = path.rename(tmp_path / "draft.txt")
    res = cli.invoke(main, ["check", "text", "--format", "json", str(renamed)])
    assert res.exit_code == 1 and rows_of(res.stdout)[0]["wrong"] == "中华人民共合国"
    clean = word_file(tmp_path / "clean.docx", ["县政府召开常务会议，研究部署冬季安全生产工作。"])
    assert cli.invoke(main, ["check", "text", "--format", "json", str(clean)]).exit_code == 0


def test_pdf_text_layer_is_read(cli: CliRunner, tmp_path: Path) -> None:
    # The second sentence is wrapped by the PDF's line end inside 共合国: it is still read whole.
    lines = ["县政府召开常务会议。", "自中华人民共", "合国成立以来，我县安全生产形势总体平稳。"]
    path = pdf_file(tmp_path / "公告.pdf", lines)
    res = cli.invoke(main, ["check", "text", "--format", "json", str(path)])
    assert res.exit_code == 1, res.output
    assert [r["wrong"] for r in rows_of(res.stdout)] == ["中华人民共合国"]


def test_gbk_text_file(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes(("第一行没有问题。\r\n" + ERROR_LINE + "\r\n").encode("gbk"))
    res = cli.invoke(main, ["check", "text", "--format", "json", str(path)])
    assert res.exit_code == 1 and [(r["line"], r["wrong"]) for r in rows_of(res.stdout)] == [
        (2, "中华人民共合国")
    ]


def _xlsx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    return path


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("old.doc", lambda p: p.write_bytes(OLE + b"\x00" * 600), "legacy Word"),
        ("book.xlsx", _xlsx, "spreadsheet"),
        ("broken.docx", lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 100), "damaged"),
        ("scan.pdf", lambda p: pdf_file(p, []), "no text layer"),
        ("photo.png", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256))), "image"),
        ("blob.bin", lambda p: p.write_bytes(bytes(range(256)) * 4), "binary"),
    ],
)
def test_unreadable_files_exit_2_with_a_clear_error(
    cli: CliRunner, tmp_path: Path, name: str, make, reason: str
) -> None:
    path = tmp_path / name
    make(path)
    res = cli.invoke(main, ["check", "text", "--format", "json", str(path)])
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    assert name in res.stderr and reason in res.stderr and "Traceback" not in res.output
