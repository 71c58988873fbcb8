"""The generic import engine: reading files of every shape, cleaning rules, and fuzzing."""

from collections import Counter

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.importing import Cleaner, FileProblem, Limits, Rejects, escape_formula, read_csv

COLUMNS = ["external_id", "name", "email"]


def read(data: bytes, **kwargs):
    return read_csv(data, columns=COLUMNS, required=["name"], **kwargs)


def test_utf8_with_and_without_bom():
    plain = read("name,email\nZoë,z@example.com\n".encode())
    bom = read(b"\xef\xbb\xbf" + "name,email\nZoë,z@example.com\n".encode())
    assert plain.encoding == "UTF-8" and bom.encoding == "UTF-8 (BOM)"
    assert plain.frame.loc[2, "name"] == bom.frame.loc[2, "name"] == "Zoë"
    assert list(bom.frame.columns) == COLUMNS


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_legacy_encodings(encoding):
    parsed = read("name,email\n张伟,z@example.com\n李娜（上海）,l@example.com\n".encode(encoding))
    assert parsed.encoding == "GB18030/GBK"
    assert list(parsed.frame["name"]) == ["张伟", "李娜（上海）"]


def test_latin1_is_not_mistaken_for_chinese():
    parsed = read(
        "name,email\nJosé Müller,j@example.com\nÅsa Öberg,a@example.com\n".encode("latin-1")
    )
    assert list(parsed.frame["name"]) == ["José Müller", "Åsa Öberg"]
    assert parsed.encoding in ("Windows-1252", "Latin-1")


def test_utf16_from_excel_unicode_text():
    parsed = read("name\temail\nAnn\ta@example.com\n".encode("utf-16"))
    assert parsed.delimiter == "\t" and parsed.frame.loc[2, "email"] == "a@example.com"


def test_semicolon_quoted_newlines_and_row_numbers():
    text = 'name;email\n"Smith; Ann";a@x.com\n\n"two\nlines";b@x.com\nlast;c@x.com\n'
    parsed = read(text.encode())
    assert parsed.delimiter == ";"
    # Row numbers are those of a spreadsheet: the blank line counts, the quoted newline not.
    assert list(parsed.frame.index) == [2, 4, 5]
    assert parsed.frame.loc[4, "name"] == "two\nlines"
    assert parsed.blank_lines == 1


def test_rows_with_the_wrong_number_of_fields_are_rejected_with_their_row():
    parsed = read(b"name,email\nok,a@x.com\ntoo,many,fields\nshort\n")
    rejects = parsed.rejects.frame()
    assert list(rejects["row"]) == [3, 4]
    assert rejects["reason"].iloc[0] == "Expected 2 fields, found 3."
    assert list(parsed.frame.index) == [2]
    assert list(parsed.original.index) == [2, 3, 4]  # kept for the rejects download


def test_header_names_are_normalised_and_unknown_columns_ignored():
    parsed = read(b" Name ,E-Mail,Favourite Colour\nAnn,a@x.com,red\n")
    assert parsed.frame.loc[2, "email"] == "a@x.com"
    assert parsed.ignored_columns == ["favourite_colour"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel"),
        (b"%PDF-1.7\n", "not a CSV"),
        (b"name,email\x00\x01\x02", "not a CSV"),
        (b"email\na@x.com\n", "lacks the required columns name"),
        (b"name,name\nA,B\n", "twice"),
        (b"name,email\n", "no data rows"),
    ],
)
def test_file_level_problems_get_a_message(data, message):
    with pytest.raises(FileProblem) as info:
        read(data)
    assert message in info.value.message


def test_limits_are_enforced():
    with pytest.raises(FileProblem, match="larger than"):
        read(b"name\n" + b"x\n" * 600, limits=Limits(max_bytes=1024 * 1024 // 1024, max_rows=10))
    with pytest.raises(FileProblem, match="more than 10 rows"):
        read(b"name\n" + b"x\n" * 11, limits=Limits(max_bytes=10**6, max_rows=10))
    assert (
        len(read(b"name\n" + b"x\n" * 10, limits=Limits(max_bytes=10**6, max_rows=10)).frame) == 10
    )


def test_a_gigantic_field_is_read_or_refused_never_a_crash():
    try:
        parsed = read(b'name\n"' + b"x" * 200_000 + b'"\n')
    except FileProblem as exc:
        assert "cannot be read" in exc.message
    else:
        assert len(parsed.frame.loc[2, "name"]) == 200_000  # the cleaners reject it by length


def test_fast_and_careful_parsers_agree():
    """pandas' C parser reads clean files; files it refuses go through the csv module.
    Both give the same rows, row numbers and rejects."""
    from crm import importing

    text = "name,email\nA,a@x.com\n\nB,b@x.com\n,\nC,c@x.com\n"
    fast = read(text.encode())
    original = importing._parse_with_pandas
    importing._parse_with_pandas = lambda *a: None
    try:
        careful = read(text.encode())
    finally:
        importing._parse_with_pandas = original
    assert fast.frame.equals(careful.frame)
    assert list(fast.frame.index) == [2, 4, 6]
    assert fast.blank_lines == careful.blank_lines == 2


def clean(values, method, **kwargs):
    frame = pd.DataFrame({"v": values}, index=range(2, 2 + len(values)))
    rejects, notes = Rejects(), Counter()
    out = getattr(Cleaner(frame, rejects, notes), method)("v", **kwargs)
    return list(out), rejects.frame(), notes


def test_decimals_from_what_people_type():
    out, rejects, _ = clean(
        ["$1,234.5", "1.234,50", "12,5", "7", "", "abc", "1.999", "-3", "1,234"],
        "decimal",
        max_digits=12,
        decimal_places=2,
    )
    assert out[:5] == ["1234.50", "1234.50", "12.50", "7.00", None]
    assert out[8] == "1234.00"
    assert dict(zip(rejects["row"], rejects["reason"], strict=True)) == {
        7: "“abc” is not a number.",
        8: "More than 2 decimal places.",
        9: "Must not be negative.",
    }


def test_dates_in_common_formats(settings):
    settings.PHONE_DEFAULT_REGION = "DE"
    out, rejects, notes = clean(
        [
            "1990-05-03",
            "03.05.1990",
            "1990/05/03",
            "1990年5月3日",
            "03/05/1990",
            "19900503",
            "nope",
            "",
        ],
        "date",
    )
    assert out[:6] == ["1990-05-03"] * 6
    assert out[6] is None and out[7] is None
    assert list(rejects["row"]) == [8]
    assert notes["dates_parsed"] == 5


def test_slash_dates_follow_the_evidence_in_the_file():
    out, _, _ = clean(["03/05/1990", "12/31/1990"], "date")
    assert out == ["1990-03-05", "1990-12-31"]  # 31 cannot be a month: month first


def test_datetimes_are_aware_and_in_utc(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    out, rejects, _ = clean(
        ["2025-01-02 08:00", "2025-01-02T08:00:00+00:00", "2025-01-02", "tomorrowish"], "datetime"
    )
    assert out[0] == pd.Timestamp("2025-01-02 00:00", tz="UTC")
    assert out[1] == pd.Timestamp("2025-01-02 08:00", tz="UTC")
    assert out[2] == pd.Timestamp("2025-01-01 16:00", tz="UTC")
    assert list(rejects["row"]) == [5]


def test_booleans_and_integers():
    out, rejects, _ = clean(["yes", "No", "1", "0", "是", "否", "", "maybe"], "boolean")
    assert out[:6] == [True, False, True, False, True, False]
    assert out[6] is None and list(rejects["row"]) == [9]
    out, rejects, _ = clean(["3", "2.0", "0", "x", "1,000"], "integer", minimum=1)
    assert out[0] == 3 and out[1] == 2 and out[4] == 1000
    assert list(rejects["row"]) == [4, 5]


def test_formula_escaping_round_trip():
    assert escape_formula("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert escape_formula("+1 415") == "'+1 415"
    assert escape_formula("@SUM") == "'@SUM"
    assert escape_formula("-12.50") == "-12.50"  # a negative number is data
    assert escape_formula("-cmd") == "'-cmd"
    assert escape_formula("Ann") == "Ann"
    frame = pd.DataFrame({"v": ["'=1+1", "' x"]}, index=[2, 3])
    notes = Counter()
    assert list(Cleaner.trim_all(frame, notes)["v"]) == ["=1+1", "' x"]
    assert notes["formula_unescaped"] == 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise_anything_but_a_file_problem(data):
    try:
        parsed = read(data)
    except FileProblem as exc:
        assert exc.message
        return
    assert set(parsed.frame.columns) == set(COLUMNS)
    assert parsed.rejects.rows.isdisjoint(set(parsed.frame.index))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(codec="utf-8"), max_size=12), min_size=1, max_size=5
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([",", ";"]),
)
def test_random_csv_shapes_never_raise_anything_but_a_file_problem(rows, delimiter):
    text = "\n".join(
        delimiter.join(
            '"' + cell.replace('"', '""') + '"' if i % 2 else cell for i, cell in enumerate(r)
        )
        for r in [["name", "email"], *rows]
    )
    try:
        read(text.encode("utf-8"))
    except FileProblem as exc:
        assert exc.message
