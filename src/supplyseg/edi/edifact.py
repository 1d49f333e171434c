"""UN/EDIFACT interchanges: syntax by pydifact, envelopes (UNB/UNH/UNT/UNZ) checked here.

pydifact 0.2.3 does the syntax layer well: the UNA service string advice, the release character
(``?+ ?: ?' ??`` are literal characters), components, empty components and line breaks between
segments. Its `Parser` is not used: in 0.2.3 it validates every segment against directory files
the wheel does not ship and warns (``MissingImplementationWarning``) once per segment, and its
segments carry no position. So `read_edifact` runs pydifact's `Tokenizer` and its token-to-
segment step, numbers the segments itself (UNB = 1; UNA is a service string, not a segment) and
checks what pydifact does not: UNT01 segment counts, UNT02 = UNH01, UNZ01 message count,
UNZ02 = UNB05, message type and directory (ORDERS D.96A and D.01B).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydifact.control.characters import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser, TokenIterator
from pydifact.tokenizer import Tokenizer

from supplyseg.edi.model import EdiError, EdiSyntaxError, Segment

__all__ = [
    "EDIFACT_DIRECTORIES",
    "EdifactInterchange",
    "EdifactMessage",
    "edifact_segments",
    "read_edifact",
]

# Message directories read (UNH02: version D, release 96A or 01B, agency UN).
EDIFACT_DIRECTORIES = ("D:96A", "D:01B")
_TAG = re.compile(r"^[A-Z][A-Z0-9]{2}$")
_LEADING_SPACE = "\ufeff \t\r\n"


@dataclass
class EdifactMessage:
    """UNH..UNT: header values, ``segments`` (both included) and message-level errors."""

    reference: str
    message_type: str
    directory: str
    segments: list[Segment]
    errors: list[EdiError] = field(default_factory=list)

    @property
    def position(self) -> int:
        """Position of the UNH segment."""
        return self.segments[0].position


@dataclass
class EdifactInterchange:
    """UNB..UNZ: service characters, sender/recipient, control reference, messages, errors."""

    characters: str
    syntax: str
    sender_id: str
    sender_qualifier: str
    recipient_id: str
    recipient_qualifier: str
    date: str
    time: str
    control_reference: str
    test: bool
    messages: list[EdifactMessage] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)


def edifact_segments(text: str) -> tuple[Characters, list[Segment]]:
    """The service characters and the segments of ``text`` (UNA, if present, is not a segment)."""
    text = text.lstrip(_LEADING_SPACE)
    chars = Characters()  # type: ignore[no-untyped-call]
    chars.decimal_point = "."
    if text.startswith("UNA"):
        if len(text) < 9:
            raise EdiSyntaxError(
                EdiError("bad_header", "UNA is followed by 6 service characters", None, "UNA")
            )
        chars = Characters.from_str(text[:9])
        advice = text[3:9]
        used = advice[:2] + advice[3] + advice[5]
        if len(set(used)) != 4:
            raise EdiSyntaxError(
                EdiError(
                    "bad_delimiters",
                    "component, data element separators, release character and segment"
                    " terminator must differ",
                    None,
                    "UNA",
                    None,
                    advice,
                )
            )
        text = text[9:].lstrip("\r\n")
    out: list[Segment] = []
    tokens = TokenIterator(Tokenizer().get_tokens(text, chars))
    try:
        for raw in Parser().convert_tokens_to_raw_segments(tokens):
            tag = raw[0]
            position = len(out) + 1
            if not isinstance(tag, str) or not _TAG.match(tag):
                raise EdiSyntaxError(
                    EdiError(
                        "bad_tag",
                        "a segment starts with a 3-character tag",
                        position,
                        None,
                        None,
                        str(tag),
                    )
                )
            elements = tuple((e,) if isinstance(e, str) else tuple(e) for e in raw[1:])
            out.append(Segment(tag, elements, position))
    except EDISyntaxError as exc:
        raise EdiSyntaxError(
            EdiError(
                "data_after_trailer",
                f"{exc}; fix: end every segment with {chars.segment_terminator!r}",
                len(out) + 1,
            )
        ) from None
    return chars, out


def read_edifact(text: str) -> EdifactInterchange:
    """Read an EDIFACT interchange (see module docstring); raises `EdiSyntaxError` without UNB."""
    chars, segs = edifact_segments(text)
    if not segs or segs[0].tag != "UNB":
        raise EdiSyntaxError(
            EdiError(
                "not_an_interchange",
                "an EDIFACT interchange starts with UNA or UNB",
                1,
                segs[0].tag if segs else None,
            )
        )
    unb = segs[0]
    ic = EdifactInterchange(
        characters=str(chars),
        syntax=f"{unb.value(1, 1)}:{unb.value(1, 2)}",
        sender_id=unb.value(2, 1),
        sender_qualifier=unb.value(2, 2),
        recipient_id=unb.value(3, 1),
        recipient_qualifier=unb.value(3, 2),
        date=unb.value(4, 1),
        time=unb.value(4, 2),
        control_reference=unb.value(5),
        test=unb.value(11) == "1",
    )
    if not ic.control_reference:
        raise EdiSyntaxError(
            EdiError(
                "bad_header",
                "UNB05 (interchange control reference) is mandatory",
                1,
                "UNB",
                "UNB05",
                "",
            )
        )
    i, n = 1, len(segs)
    while i < n and segs[i].tag == "UNH":
        msg, i = _message(segs, i)
        ic.messages.append(msg)
    if i >= n:
        ic.errors.append(
            EdiError("missing_trailer", "the interchange has no UNZ trailer", n, segs[-1].tag)
        )
        return ic
    unz = segs[i]
    if unz.tag != "UNZ":
        ic.errors.append(
            EdiError(
                "unexpected_segment",
                "expected UNH (a message) or UNZ (the interchange trailer); functional groups"
                " (UNG) are not read",
                unz.position,
                unz.tag,
            )
        )
        return ic
    if unz.value(1) != str(len(ic.messages)):
        ic.errors.append(
            EdiError(
                "count_mismatch",
                f"UNZ01 must be the number of messages, {len(ic.messages)}",
                unz.position,
                "UNZ",
                "UNZ01",
                unz.value(1),
            )
        )
    if unz.value(2) != ic.control_reference:
        ic.errors.append(
            EdiError(
                "control_number_mismatch",
                f"UNZ02 must repeat the interchange control reference UNB05 {ic.control_reference}",
                unz.position,
                "UNZ",
                "UNZ02",
                unz.value(2),
            )
        )
    if i + 1 < n:
        extra = segs[i + 1]
        ic.errors.append(
            EdiError("data_after_trailer", "segments after UNZ", extra.position, extra.tag)
        )
    return ic


def _message(segs: list[Segment], i: int) -> tuple[EdifactMessage, int]:
    unh = segs[i]
    msg = EdifactMessage(
        reference=unh.value(1),
        message_type=unh.value(2, 1),
        directory=f"{unh.value(2, 2)}:{unh.value(2, 3)}",
        segments=[unh],
    )
    if not msg.reference:
        msg.errors.append(
            EdiError(
                "bad_control_number",
                "UNH01 (message reference) is mandatory",
                unh.position,
                "UNH",
                "UNH01",
                "",
            )
        )
    if msg.message_type == "ORDERS" and msg.directory not in EDIFACT_DIRECTORIES:
        msg.errors.append(
            EdiError(
                "unsupported_version",
                f"directory {msg.directory!r} is not read; supported: {list(EDIFACT_DIRECTORIES)}",
                unh.position,
                "UNH",
                "UNH02",
                ":".join(unh.elements[1]) if len(unh.elements) > 1 else "",
            )
        )
    i += 1
    n = len(segs)
    while i < n:
        seg = segs[i]
        if seg.tag in ("UNH", "UNZ"):
            msg.errors.append(
                EdiError(
                    "missing_trailer",
                    f"message {msg.reference} (UNH at segment {unh.position}) ends without UNT",
                    seg.position,
                    seg.tag,
                )
            )
            return msg, i
        msg.segments.append(seg)
        i += 1
        if seg.tag == "UNT":
            _check_unt(msg, seg)
            return msg, i
    return msg, i


def _check_unt(msg: EdifactMessage, unt: Segment) -> None:
    count = len(msg.segments)
    if unt.value(1) != str(count):
        msg.errors.append(
            EdiError(
                "count_mismatch",
                f"UNT01 must be the number of segments from UNH to UNT inclusive, {count}",
                unt.position,
                "UNT",
                "UNT01",
                unt.value(1),
            )
        )
    if unt.value(2) != msg.reference:
        msg.errors.append(
            EdiError(
                "control_number_mismatch",
                f"UNT02 must repeat the message reference UNH01 {msg.reference}",
                unt.position,
                "UNT",
                "UNT02",
                unt.value(2),
            )
        )
