"""One formatter for pydantic validation errors of every config section (and service settings).

Each error becomes one line naming the setting's path, the value found and what is allowed;
every error is listed (a file with three typos needs three fixes, not three runs). A key the
model does not know, or a choice outside a fixed set, comes with the closest allowed names
(difflib), so ``colums`` reads ``unknown setting 'colums'; did you mean 'columns'?``.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails

__all__ = ["close_matches", "error_lines", "validation_message"]

Loc = tuple[int | str, ...]


def close_matches(word: str, allowed: Collection[str], n: int = 3) -> list[str]:
    """The allowed names closest to ``word`` (difflib ratio >= 0.6), best first."""
    return difflib.get_close_matches(word, sorted(allowed), n=n, cutoff=0.6)


def _did_you_mean(word: str, allowed: Collection[str]) -> str:
    near = close_matches(word, allowed)
    if not near:
        return ""
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)"


def _strip(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _members(tp: Any) -> tuple[Any, ...]:
    tp = _strip(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return tuple(_strip(a) for a in get_args(tp))
    return (tp,)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field_names(model: type[BaseModel]) -> dict[str, str]:
    """Every name a key may take (field name and alias) -> the field name."""
    names: dict[str, str] = {}
    for name, info in model.model_fields.items():
        if info.exclude:
            continue  # set by the loader, not in the file (e.g. the workspace's root)
        names[name] = name
        if info.alias:
            names[info.alias] = name
    return names


def _tag_of(tp: Any) -> str | None:
    if get_origin(tp) is Annotated:
        for meta in tp.__metadata__:
            if isinstance(meta, Tag) and isinstance(meta.tag, str):
                return meta.tag
    return None


def _descend(tp: Any, part: int | str) -> Any:
    """The type found at ``part`` inside a value of type ``tp`` (None when unknown)."""
    union = _strip(tp)
    if get_origin(union) in (Union, types.UnionType):
        for arg in get_args(union):
            if _tag_of(arg) == part:
                return _strip(arg)  # the branch of a tagged union
    for member in _members(tp):
        if isinstance(part, str) and getattr(member, "__name__", None) == part:
            return member  # the union branch pydantic names in the location
        origin = get_origin(member)
        if _is_model(member) and isinstance(part, str):
            field = _field_names(member).get(part)
            if field is not None:
                return member.model_fields[field].annotation
        elif origin in (dict, Mapping) and len(get_args(member)) == 2:
            return get_args(member)[1]
        elif origin in (list, tuple, Sequence) and isinstance(part, int) and get_args(member):
            return get_args(member)[0]
    return None


def _allowed_keys(model: type[BaseModel] | None, loc: Loc) -> list[str]:
    """The keys the mapping at ``loc`` accepts (empty when the walk loses the type)."""
    tp: Any = model
    for part in loc:
        if tp is None:
            return []
        tp = _descend(tp, part)
    keys: set[str] = set()
    for member in _members(tp):
        if _is_model(member):
            keys |= set(_field_names(member))
    return sorted(keys)


def _lookup(raw: Any, loc: Loc) -> Any:
    cur = raw
    for p in loc:
        in_map = isinstance(cur, Mapping) and p in cur
        in_list = isinstance(cur, list | tuple) and isinstance(p, int) and 0 <= p < len(cur)
        if not (in_map or in_list):
            return None
        cur = cur[p]
    return cur


def _expected(err: ErrorDetails) -> list[str]:
    ctx = err.get("ctx") or {}
    return re.findall(r"'([^']*)'", str(ctx.get("expected", "")))


def error_lines(
    exc: ValidationError,
    raw: Any,
    *,
    model: type[BaseModel] | None = None,
    prefix: str = "",
    skip: Collection[str] = (),
    name: Callable[[str], str] | None = None,
) -> list[str]:
    """One line per error: ``<path> (value <v>): <message>``, first error per path only.

    ``prefix`` starts every path (e.g. ``cost_to_serve``); ``skip`` lists location parts that
    are union tags, not keys; ``name`` renders the path differently (e.g. as an environment
    variable). Pydantic's own location parts (``function-after[...]``, union branch names) are
    dropped from the path, not from the walk that finds the allowed keys.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not str(p).startswith("function-"))
        branch = _branches(model, loc)
        keys = tuple(p for p, b in zip(loc, branch, strict=True) if p not in skip and not b)
        where = ".".join([*([prefix] if prefix else []), *(str(p) for p in keys)])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if msg.startswith("."):  # a validator that knows a deeper path than pydantic's loc
            deeper, _, msg = msg.partition(": ")
            where = (where + deeper).lstrip(".")
            shown = ""  # such validators name the value themselves
        else:
            value = _lookup(raw, keys)
            shown = "" if value is None or isinstance(value, Mapping) else f" (value {value!r})"
        if err["type"] == "extra_forbidden" and keys:
            allowed = _allowed_keys(model, loc[:-1])
            word = str(keys[-1])
            msg = f"unknown setting {word!r}{_did_you_mean(word, allowed)}"
            if allowed:
                msg += f"; allowed: {', '.join(allowed)}"
        elif err["type"] in ("literal_error", "enum") and isinstance(err.get("input"), str):
            msg += _did_you_mean(str(err["input"]), _expected(err))
        label = name(where) if name is not None else where
        if label in seen:
            continue  # the other branches of a union: the first says enough
        seen.add(label)
        lines.append(f"{label or '(top level)'}{shown}: {msg}")
    return lines


def _branches(model: type[BaseModel] | None, loc: Loc) -> list[bool]:
    """Per location part, whether it names a union branch (a type, e.g. ``str``), not a key."""
    out: list[bool] = []
    tp: Any = model
    for p in loc:
        union = _strip(tp)
        tags = [_tag_of(a) for a in get_args(union)] if get_origin(union) else []
        names = [getattr(m, "__name__", None) for m in _members(tp)]
        out.append(isinstance(p, str) and (p in names or p in tags))
        tp = _descend(tp, p) if tp is not None else None
    return out


def validation_message(
    exc: ValidationError,
    raw: Any,
    *,
    origin: str,
    model: type[BaseModel] | None = None,
    prefix: str = "",
    skip: Collection[str] = (),
    fix: str = "correct it in the workspace file",
    name: Callable[[str], str] | None = None,
) -> str:
    """The message of the error a config loader raises: origin, every error, and the fix.

    One error reads ``<origin>: <path> (value <v>): <message>; fix: ...`` on one line; several
    read ``<origin>: N errors`` and one indented line each. A message that already says
    ``fix:`` gets no second one.
    """
    lines = error_lines(exc, raw, model=model, prefix=prefix, skip=skip, name=name)
    tail = "" if all("fix:" in line for line in lines) else f"; fix: {fix}"
    if len(lines) == 1:
        return f"{origin}: {lines[0]}{tail}"
    body = "\n".join(f"  - {line}" for line in lines)
    return f"{origin}: {len(lines)} errors\n{body}\n{tail.removeprefix('; ')}"
