"""CSV files read by Arrow (regular files) and by the csv module (the rest) give the same rows at the
same lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from govmedia.ingest.tabular import _arrow_csv, _read_csv

CASES = {
    "plain": "a,b,c\n1,2,3\n4,5,6\n",
    "no final newline": "a,b,c\n1,2,3\n4,5,6",
    "crlf": "a,b,c\r\n1,2,3\r\n4,5,6\r\n",
    "quoted newlines": 'a,b,c\n1,"two\nlines",3\n4,"three\r\nline\ncell",6\n7,8,9\n',
    "empty cells": "a,b,c\n,,3\n4,,\n",
    "repeated header": "a,b,a\n1,2,3\n",
    "unnamed column": "a,,c\n1,2,3\n",
    "blank line": "a,b,c\n1,2,3\n\n4,5,6\n",
    "blank-looking row": "a,b,c\n1,2,3\n , , \n4,5,6\n",
    "ragged": "a,b,c\n1,2\n4,5,6,7\n",
    "quoted header": '"a\nb",c\n1,2\n',
    "blank before header": "\na,b\n1,2\n",
    "tabs": "a\tb\n1\t2\n",
    "quotes": 'a,b\n"x ""y""",2\n',
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_arrow_and_csv_module_read_the_same_rows(name):
    text = CASES[name]
    path = Path(f"{name}.csv")
    slow = _read_csv(path, text, "utf-8", arrow=False)
    fast = _read_csv(path, text, "utf-8")
    assert fast.header == slow.header
    assert [(line, {k: (v or None) for k, v in row.items()}) for line, row in fast.rows] == \
           [(line, {k: (v or None) for k, v in row.items()}) for line, row in slow.rows]


def test_regular_files_are_read_by_arrow_and_irregular_ones_are_not():
    taken = {name for name, text in CASES.items() if _arrow_csv(Path("x.csv"), text, "\t" if name == "tabs" else ",",
                                                                  "utf-8") is not None}
    assert {"plain", "no final newline", "crlf", "quoted newlines", "empty cells", "tabs", "quotes"} <= taken
    assert not taken & {"blank line", "blank-looking row", "ragged", "quoted header", "blank before header"}


def test_half_an_emoji_in_json_is_read_as_a_replacement_character_unless_kept(tmp_path):
    """A lone surrogate ("\\ud83c", as JSON.stringify writes the first half of a cut emoji) cannot be
    written anywhere: tables other than posts (registry, cases, city) read it as U+FFFD; the post
    import keeps it to tell the exporter's cut titles from broken cells."""
    from govmedia.ingest.tabular import read_table

    path = tmp_path / "名录.json"
    path.write_text('[{"名称": "测试\\ud83c", "标签": ["a\\udc00"], "好": "🎉"}]', encoding="utf-8")
    (line, row), = read_table(path).rows
    assert row == {"名称": "测试\ufffd", "标签": ["a\ufffd"], "好": "🎉"}
    kept = read_table(path, keep_broken=True)
    assert kept.surrogates and kept.rows[0][1]["名称"] == "测试\ud83c"
    plain = tmp_path / "plain.json"
    plain.write_text('[{"名称": "🎉"}]', encoding="utf-8")
    assert not read_table(plain, keep_broken=True).surrogates


def test_a_registry_in_json_with_half_an_emoji_imports(tmp_path):
    from govmedia.ingest.accounts import import_accounts
    from govmedia.store import open_store

    path = tmp_path / "名录.json"
    path.write_text('[{"平台": "微博", "账号ID": "77", "名称": "测试\\ud83c", "类别": "区级"}]', encoding="utf-8")
    con = open_store(tmp_path / "s.duckdb")
    _, result, rejects = import_accounts(con, path, "测试")
    assert not rejects
    assert con.execute("SELECT name FROM accounts").fetchall() == [("测试\ufffd",)]
    con.close()
