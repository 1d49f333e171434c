"""The X12 reader: delimiters from ISA, segments, envelope checks with exact errors."""

from __future__ import annotations

import pytest
from edi_samples import X12_4010, X12_5010, sample

from supplyseg.edi.model import EdiError, EdiSyntaxError
from supplyseg.edi.x12 import Delimiters, read_x12, x12_delimiters


def test_delimiters_come_from_isa_in_4010_and_5010() -> None:
    assert x12_delimiters(sample(X12_4010)) == Delimiters("*", ">", "~", None)
    assert x12_delimiters(sample(X12_5010)) == Delimiters("*", ":", "~", "^")


def test_two_transaction_sets_read_with_positions_and_control_numbers() -> None:
    ic = read_x12(sample(X12_4010))
    assert (ic.sender_qualifier, ic.sender_id, ic.receiver_id) == ("ZZ", "BUYERK1", "SUPPLYSEG")
    assert (ic.control_number, ic.version, ic.test) == ("000000101", "00401", False)
    assert ic.errors == []
    [group] = ic.groups
    assert (group.functional_id, group.control_number, group.version) == ("PO", "101", "004010")
    assert [
        (t.code, t.control_number, t.position, len(t.segments)) for t in group.transaction_sets
    ] == [
        ("850", "0001", 3, 11),
        ("850", "0002", 14, 8),
    ]
    assert all(t.errors == [] for t in group.transaction_sets)


def test_5010_repetition_separator_and_test_indicator() -> None:
    ic = read_x12(sample(X12_5010))
    assert (ic.version, ic.test, ic.sender_qualifier, ic.sender_id) == (
        "00501",
        True,
        "01",
        "123456789",
    )
    assert ic.groups[0].version == "005010"


def test_other_delimiters_and_newline_terminator_read_the_same() -> None:
    text = sample(X12_4010).replace("*", "|").replace("~\n", "\n").replace(">", "^")
    ic = read_x12(text)
    assert ic.delimiters == Delimiters("|", "^", "\n", None)
    base = read_x12(sample(X12_4010))
    assert [s.segments for s in ic.groups[0].transaction_sets] == [
        s.segments for s in base.groups[0].transaction_sets
    ]


def test_wrong_se_count_rejects_only_that_set() -> None:
    ic = read_x12(sample(X12_4010).replace("SE*11*0001~", "SE*12*0001~"))
    first, second = ic.groups[0].transaction_sets
    assert first.errors == [
        EdiError(
            "count_mismatch",
            "SE01 must be the number of segments from ST to SE inclusive, 11",
            13,
            "SE",
            "SE01",
            "12",
        )
    ]
    assert second.errors == []
    assert ic.groups[0].errors == []
    assert ic.errors == []


def test_se02_must_repeat_st02() -> None:
    ic = read_x12(sample(X12_4010).replace("SE*8*0002~", "SE*8*0003~"))
    assert ic.groups[0].transaction_sets[1].errors == [
        EdiError(
            "control_number_mismatch",
            "SE02 must repeat the transaction set control number ST02 0002",
            21,
            "SE",
            "SE02",
            "0003",
        )
    ]


def test_group_trailer_count_and_control_number() -> None:
    ic = read_x12(sample(X12_4010).replace("GE*2*101~", "GE*3*102~"))
    assert ic.groups[0].errors == [
        EdiError(
            "count_mismatch",
            "GE01 must be the number of transaction sets in the group, 2",
            22,
            "GE",
            "GE01",
            "3",
        ),
        EdiError(
            "control_number_mismatch",
            "GE02 must repeat the group control number GS06 101",
            22,
            "GE",
            "GE02",
            "102",
        ),
    ]


def test_interchange_trailer_control_number_and_count() -> None:
    ic = read_x12(sample(X12_4010).replace("IEA*1*000000101~", "IEA*2*000000109~"))
    assert [str(e) for e in ic.errors] == [
        "segment 23 IEA IEA01 = '2': IEA01 must be the number of functional groups, 1"
        " [count_mismatch]",
        "segment 23 IEA IEA02 = '000000109': IEA02 must repeat the interchange control number"
        " ISA13 000000101 [control_number_mismatch]",
    ]


def test_missing_se_and_missing_iea() -> None:
    text = sample(X12_4010).replace("SE*11*0001~\n", "")
    ic = read_x12(text)
    assert ic.groups[0].transaction_sets[0].errors == [
        EdiError(
            "missing_trailer",
            "transaction set 0001 (ST at segment 3) ends without SE",
            13,
            "ST",
        )
    ]
    ic = read_x12(sample(X12_4010).replace("IEA*1*000000101~\n", ""))
    assert ic.errors == [
        EdiError("missing_trailer", "the interchange has no IEA trailer", 22, "GE")
    ]


@pytest.mark.parametrize(
    ("edit", "code", "element", "value"),
    [
        (("*ZZ*BUYERK1        *", "*ZZ*BUYERK1 *"), "bad_header", "ISA06", "BUYERK1 "),
        (("00401", "00301"), "unsupported_version", "ISA12", "00301"),
        (("000000101*0", "00000010A*0"), "bad_header", "ISA13", "00000010A"),
    ],
)
def test_isa_errors_name_the_element(
    edit: tuple[str, str], code: str, element: str, value: str
) -> None:
    text = sample(X12_4010).replace(*edit, 1)
    if code == "bad_header" and element == "ISA06":
        text = text.replace("*SUPPLYSEG      *", "*SUPPLYSEG             *", 1)
    with pytest.raises(EdiSyntaxError) as info:
        read_x12(text)
    assert (info.value.error.code, info.value.error.element, info.value.error.value) == (
        code,
        element,
        value,
    )


def test_not_an_interchange_and_trailing_garbage() -> None:
    with pytest.raises(EdiSyntaxError, match="starts with ISA"):
        read_x12("UNB+UNOC:3'")
    with pytest.raises(EdiSyntaxError) as info:
        read_x12(sample(X12_4010) + "IEA*1")
    assert info.value.error.code == "data_after_trailer"
    assert info.value.error.position == 24


def test_delimiters_must_differ() -> None:
    text = sample(X12_4010)
    text = text[:104] + "~" + text[105:]
    with pytest.raises(EdiSyntaxError) as info:
        read_x12(text)
    assert info.value.error.code == "bad_delimiters"
