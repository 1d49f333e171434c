"""A small, strict ANSI X12 reader: delimiters from ISA, segments, and the envelopes.

Tokenising only: `read_x12` splits the interchange into segments and checks the envelopes
(ISA/IEA, GS/GE, ST/SE: control numbers match, counts agree); what a transaction set means is
`supplyseg.edi.mapping`'s job.

Delimiters come from the fixed-length ISA header (106 characters): the element separator is the
4th character, the component separator is ISA16 and the segment terminator the character after
it; from version 00501 on ISA11 is the repetition separator (before, it is the standards
identifier ``U``). Line breaks after a segment terminator are allowed (many translators wrap).

Errors are kept at the level they spoil: an interchange error (missing IEA, IEA01 or IEA02 wrong)
rejects everything; a group error (GE01/GE02, unsupported version) rejects the group's sets; a
transaction set error (SE01 count, SE02 control number, missing SE) rejects that set only. Input
that has no readable ISA raises `EdiSyntaxError`: there is no envelope to acknowledge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from supplyseg.edi.model import EdiError, EdiSyntaxError, Segment

__all__ = [
    "ISA_LENGTH",
    "X12_VERSIONS",
    "Delimiters",
    "FunctionalGroup",
    "TransactionSet",
    "X12Interchange",
    "read_x12",
    "x12_delimiters",
    "x12_segments",
]

# Widths of ISA01..ISA16 (fixed by the standard; translators pad with spaces).
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
ISA_LENGTH = 106
# Interchange control versions (ISA12) and the group versions (GS08, first 6 characters) read.
X12_VERSIONS = {"00401": "004010", "00501": "005010"}
_TAG = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_LEADING_SPACE = "\ufeff \t\r\n"


@dataclass(frozen=True)
class Delimiters:
    """The separators an interchange declares in its ISA header."""

    element: str
    component: str
    segment: str
    repetition: str | None


@dataclass
class TransactionSet:
    """ST..SE: ``segments`` include both; ``errors`` are the envelope errors of this set."""

    code: str
    control_number: str
    segments: list[Segment]
    errors: list[EdiError] = field(default_factory=list)

    @property
    def position(self) -> int:
        """Position of the ST segment."""
        return self.segments[0].position


@dataclass
class FunctionalGroup:
    """GS..GE: its header values, transaction sets and group-level errors."""

    functional_id: str
    sender: str
    receiver: str
    control_number: str
    version: str
    position: int
    transaction_sets: list[TransactionSet] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)


@dataclass
class X12Interchange:
    """ISA..IEA: sender/receiver, control number, version, groups and interchange errors."""

    delimiters: Delimiters
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    control_number: str
    version: str
    test: bool
    groups: list[FunctionalGroup] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)


def _fatal(code: str, message: str, element: str | None = None, value: str | None = None) -> None:
    raise EdiSyntaxError(EdiError(code, message, 1, "ISA", element, value))


def x12_delimiters(text: str) -> Delimiters:
    """The delimiters declared by the ISA header at the start of ``text``."""
    text = text.lstrip(_LEADING_SPACE)
    if not text.startswith("ISA"):
        raise EdiSyntaxError(
            EdiError(
                "not_an_interchange",
                "an X12 interchange starts with ISA; fix: send the whole interchange",
                1,
                None,
                None,
                text[:20],
            )
        )
    if len(text) < ISA_LENGTH:
        _fatal(
            "bad_header",
            f"the ISA header is {ISA_LENGTH} characters, the input only {len(text)}",
            value=text,
        )
    sep, component, terminator = text[3], text[104], text[105]
    version = text[84:89] if text[83] == sep else ""
    repetition = text[82] if version >= "00501" else None
    used = [sep, component, terminator] + ([repetition] if repetition else [])
    if len(set(used)) != len(used) or any(c.isalnum() for c in used):
        _fatal(
            "bad_delimiters",
            "the element separator (ISA 4th character), repetition separator (ISA11, 5010),"
            " component separator (ISA16) and segment terminator must be distinct"
            " non-alphanumeric characters",
            "ISA16",
            repr("".join(used)),
        )
    return Delimiters(sep, component, terminator, repetition)


def _isa(text: str, d: Delimiters) -> list[str]:
    parts = text[3:105].split(d.element)
    if len(parts) != 17 or parts[0] != "":
        _fatal(
            "bad_header",
            f"ISA must hold 16 fixed-width elements before the segment terminator; found"
            f" {len(parts) - 1}",
            value=text[:ISA_LENGTH],
        )
    values = parts[1:]
    for i, (value, width) in enumerate(zip(values, _ISA_WIDTHS, strict=True), start=1):
        if len(value) != width:
            _fatal(
                "bad_header",
                f"ISA{i:02d} is {width} characters wide (pad with spaces), found {len(value)}",
                f"ISA{i:02d}",
                value,
            )
    if values[11] not in X12_VERSIONS:
        _fatal(
            "unsupported_version",
            f"interchange version {values[11]!r} is not read; supported: {sorted(X12_VERSIONS)}",
            "ISA12",
            values[11],
        )
    if not values[12].isdigit():
        _fatal("bad_header", "the control number must be 9 digits", "ISA13", values[12])
    return values


def x12_segments(text: str, d: Delimiters) -> list[Segment]:
    """The segments of ``text`` (ISA first) with their positions; strict about empty segments,
    bad tags and anything after the last terminator."""
    text = text.lstrip(_LEADING_SPACE)
    comp = d.component
    out: list[Segment] = []
    pieces = text.split(d.segment)
    tail = pieces.pop()
    for i, raw in enumerate(pieces, start=1):
        raw = raw.strip("\r\n")
        if not raw:
            raise EdiSyntaxError(
                EdiError("empty_segment", "empty segment (two terminators in a row)", i)
            )
        elements = raw.split(d.element)
        tag = elements[0]
        if not _TAG.match(tag):
            raise EdiSyntaxError(
                EdiError("bad_tag", "a segment starts with a 2-3 character tag", i, None, None, tag)
            )
        if i == 1:
            values: tuple[tuple[str, ...], ...] = tuple((v,) for v in elements[1:])
        else:
            values = tuple(tuple(v.split(comp)) if comp in v else (v,) for v in elements[1:])
        out.append(Segment(tag, values, i))
    if tail.strip():
        raise EdiSyntaxError(
            EdiError(
                "data_after_trailer",
                "text after the last segment terminator; fix: end every segment with"
                f" {d.segment!r}",
                len(pieces) + 1,
                None,
                None,
                tail.strip()[:40],
            )
        )
    return out


def read_x12(text: str) -> X12Interchange:
    """Read an X12 interchange: delimiters, segments, envelopes (see module docstring)."""
    text = text.lstrip(_LEADING_SPACE)
    d = x12_delimiters(text)
    isa = _isa(text, d)
    segs = x12_segments(text, d)
    ic = X12Interchange(
        delimiters=d,
        sender_qualifier=isa[4],
        sender_id=isa[5].strip(),
        receiver_qualifier=isa[6],
        receiver_id=isa[7].strip(),
        date=isa[8],
        time=isa[9],
        control_number=isa[12],
        version=isa[11],
        test=isa[14] == "T",
    )
    i, n = 1, len(segs)
    while i < n and segs[i].tag == "TA1":  # interchange acknowledgements precede the groups
        i += 1
    while i < n and segs[i].tag == "GS":
        group, i = _group(segs, i)
        ic.groups.append(group)
    if i >= n:
        ic.errors.append(
            EdiError("missing_trailer", "the interchange has no IEA trailer", n, segs[-1].tag)
        )
        return ic
    iea = segs[i]
    if iea.tag != "IEA":
        ic.errors.append(
            EdiError(
                "unexpected_segment",
                "expected GS (a functional group) or IEA (the interchange trailer)",
                iea.position,
                iea.tag,
            )
        )
        return ic
    if iea.value(1) != str(len(ic.groups)):
        ic.errors.append(
            EdiError(
                "count_mismatch",
                f"IEA01 must be the number of functional groups, {len(ic.groups)}",
                iea.position,
                "IEA",
                "IEA01",
                iea.value(1),
            )
        )
    if iea.value(2) != ic.control_number:
        ic.errors.append(
            EdiError(
                "control_number_mismatch",
                f"IEA02 must repeat the interchange control number ISA13 {ic.control_number}",
                iea.position,
                "IEA",
                "IEA02",
                iea.value(2),
            )
        )
    if i + 1 < n:
        extra = segs[i + 1]
        ic.errors.append(
            EdiError(
                "data_after_trailer", "segments after IEA", extra.position, extra.tag, None, None
            )
        )
    return ic


def _group(segs: list[Segment], i: int) -> tuple[FunctionalGroup, int]:
    gs = segs[i]
    group = FunctionalGroup(
        functional_id=gs.value(1),
        sender=gs.value(2),
        receiver=gs.value(3),
        control_number=gs.value(6),
        version=gs.value(8),
        position=gs.position,
    )
    if gs.value(8)[:6] not in X12_VERSIONS.values():
        group.errors.append(
            EdiError(
                "unsupported_version",
                f"version {gs.value(8)!r} is not read; supported:"
                f" {sorted(X12_VERSIONS.values())} (GS08 starts with one)",
                gs.position,
                "GS",
                "GS08",
                gs.value(8),
            )
        )
    i += 1
    n = len(segs)
    while i < n:
        seg = segs[i]
        if seg.tag == "ST":
            ts, i = _transaction_set(segs, i)
            group.transaction_sets.append(ts)
        elif seg.tag == "GE":
            _check_ge(group, seg)
            return group, i + 1
        elif seg.tag in ("GS", "IEA"):
            break
        else:
            group.errors.append(
                EdiError(
                    "unexpected_segment",
                    "segment outside a transaction set (ST..SE)",
                    seg.position,
                    seg.tag,
                )
            )
            i += 1
    at = segs[min(i, n - 1)]
    group.errors.append(
        EdiError(
            "missing_trailer",
            f"functional group {group.control_number} (GS at segment {gs.position}) has no GE",
            at.position,
            at.tag,
        )
    )
    return group, i


def _check_ge(group: FunctionalGroup, ge: Segment) -> None:
    count = len(group.transaction_sets)
    if ge.value(1) != str(count):
        group.errors.append(
            EdiError(
                "count_mismatch",
                f"GE01 must be the number of transaction sets in the group, {count}",
                ge.position,
                "GE",
                "GE01",
                ge.value(1),
            )
        )
    if ge.value(2) != group.control_number:
        group.errors.append(
            EdiError(
                "control_number_mismatch",
                f"GE02 must repeat the group control number GS06 {group.control_number}",
                ge.position,
                "GE",
                "GE02",
                ge.value(2),
            )
        )


def _transaction_set(segs: list[Segment], i: int) -> tuple[TransactionSet, int]:
    st = segs[i]
    ts = TransactionSet(st.value(1), st.value(2), [st])
    if not 4 <= len(ts.control_number) <= 9:
        ts.errors.append(
            EdiError(
                "bad_control_number",
                "ST02 (transaction set control number) is 4 to 9 characters",
                st.position,
                "ST",
                "ST02",
                ts.control_number,
            )
        )
    i += 1
    n = len(segs)
    while i < n:
        seg = segs[i]
        if seg.tag in ("ST", "GE", "GS", "IEA"):
            ts.errors.append(
                EdiError(
                    "missing_trailer",
                    f"transaction set {ts.control_number} (ST at segment {st.position}) ends"
                    f" without SE",
                    seg.position,
                    seg.tag,
                )
            )
            return ts, i
        ts.segments.append(seg)
        i += 1
        if seg.tag == "SE":
            _check_se(ts, seg)
            return ts, i
    return ts, i


def _check_se(ts: TransactionSet, se: Segment) -> None:
    count = len(ts.segments)
    if se.value(1) != str(count):
        ts.errors.append(
            EdiError(
                "count_mismatch",
                f"SE01 must be the number of segments from ST to SE inclusive, {count}",
                se.position,
                "SE",
                "SE01",
                se.value(1),
            )
        )
    if se.value(2) != ts.control_number:
        ts.errors.append(
            EdiError(
                "control_number_mismatch",
                f"SE02 must repeat the transaction set control number ST02 {ts.control_number}",
                se.position,
                "SE",
                "SE02",
                se.value(2),
            )
        )
