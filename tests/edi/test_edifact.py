"""The EDIFACT reader: pydifact's syntax layer (UNA, release character) and our envelope checks."""

from __future__ import annotations

import pytest
from edi_samples import EDIFACT_96A, edifact_01b, sample

from supplyseg.edi.edifact import read_edifact
from supplyseg.edi.model import EdiError, EdiSyntaxError


def test_una_sets_the_service_characters_and_release_escapes_are_literal() -> None:
    ic = read_edifact(sample(EDIFACT_96A))
    assert ic.characters == ":+.? '"
    assert (ic.sender_id, ic.sender_qualifier, ic.control_reference) == (
        "5412345000013",
        "14",
        "IC0001",
    )
    [msg] = ic.messages
    assert (msg.reference, msg.message_type, msg.directory, msg.position) == (
        "M1",
        "ORDERS",
        "D:96A",
        2,
    )
    bgm, ftx = msg.segments[1], msg.segments[4]
    assert bgm.value(2) == "PO+77:A"  # ?+ and ?: are data, not separators
    assert ftx.value(4) == "Fragile's glass ? handle with care"  # ?' and ??
    assert msg.errors == []
    assert ic.errors == []


def test_other_service_characters_from_una() -> None:
    text = (
        'UNA*|.! "UNB|UNOC*3|B*ZZZ|S*ZZZ|260302*1200|R1"UNH|1|ORDERS*D*96A*UN"'
        'BGM|220|A!|B!*C!!|9"UNT|3|1"UNZ|1|R1"'
    )
    ic = read_edifact(text)
    assert ic.messages[0].segments[1].value(2) == "A|B*C!"
    assert ic.errors == []
    assert ic.messages[0].errors == []


def test_without_una_the_default_characters_apply() -> None:
    ic = read_edifact(edifact_01b(2))
    assert ic.messages[0].directory == "D:01B"
    assert ic.messages[0].errors == []


def test_wrong_unt_count_names_unt01() -> None:
    ic = read_edifact(edifact_01b(2, unt=99))
    assert ic.messages[0].errors == [
        EdiError(
            "count_mismatch",
            "UNT01 must be the number of segments from UNH to UNT inclusive, 13",
            14,
            "UNT",
            "UNT01",
            "99",
        )
    ]


def test_unt_and_unz_references_and_counts() -> None:
    text = (
        sample(EDIFACT_96A)
        .replace("UNT+16+M1", "UNT+16+M2")
        .replace("UNZ+1+IC0001", "UNZ+2+IC0009")
    )
    ic = read_edifact(text)
    assert ic.messages[0].errors == [
        EdiError(
            "control_number_mismatch",
            "UNT02 must repeat the message reference UNH01 M1",
            17,
            "UNT",
            "UNT02",
            "M2",
        )
    ]
    assert ic.errors == [
        EdiError(
            "count_mismatch", "UNZ01 must be the number of messages, 1", 18, "UNZ", "UNZ01", "2"
        ),
        EdiError(
            "control_number_mismatch",
            "UNZ02 must repeat the interchange control reference UNB05 IC0001",
            18,
            "UNZ",
            "UNZ02",
            "IC0009",
        ),
    ]


def test_unsupported_directory_and_missing_unt() -> None:
    ic = read_edifact(edifact_01b(1).replace("ORDERS:D:01B", "ORDERS:D:93A"))
    assert [e.code for e in ic.messages[0].errors] == ["unsupported_version"]
    ic = read_edifact(edifact_01b(1).replace("UNT+10+1'", ""))
    assert ic.messages[0].errors == [
        EdiError("missing_trailer", "message 1 (UNH at segment 2) ends without UNT", 11, "UNZ")
    ]


def test_unreadable_input_raises() -> None:
    with pytest.raises(EdiSyntaxError) as info:
        read_edifact("UNB+UNOC:3+B+S+260302:1200+R1'UNH+1+ORDERS:D:96A:UN'BGM+220")
    assert info.value.error.code == "data_after_trailer"
    assert info.value.error.position == 3
    with pytest.raises(EdiSyntaxError, match="starts with UNA or UNB"):
        read_edifact("UNH+1+ORDERS:D:96A:UN'")
