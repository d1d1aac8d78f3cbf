"""Stripe's bracket form encoding, both directions.

``account=acct_1&components[payments][enabled]=true`` is the wire form of
``{"account": "acct_1", "components": {"payments": {"enabled": True}}}``.
Encoding turns Python booleans into ``true``/``false``; decoding keeps every
leaf a string, exactly as it travelled, so that validation sees the wire.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote_plus

__all__ = ["FormError", "bracket_path", "decode_form", "encode_form", "form_pairs"]

MAX_DEPTH = 6
MAX_PAIRS = 2000

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SUBKEY = re.compile(r"\[([^\[\]]*)\]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")  # needs no percent-encoding
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.~\[\]-]*")


class FormError(ValueError):
    """The body is not a well-formed bracket form; ``param`` names where, if known."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def bracket_path(parts: tuple[str, ...] | list[str]) -> str:
    """``("components", "payments", "enabled")`` -> ``components[payments][enabled]``."""
    head, *rest = parts
    return head + "".join(f"[{p}]" for p in rest)


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def form_pairs(params: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Flatten nested params into ``(bracket key, string value)`` pairs, in order."""
    out: list[tuple[str, str]] = []
    _pairs_into(params, prefix, out)
    return iter(out)


def _pairs_into(params: Mapping[str, Any], prefix: str, out: list[tuple[str, str]]) -> None:
    """:func:`form_pairs`, appended to ``out`` (no generator a level: a fuzz case is
    encoded each time it is sent)."""
    for key, value in params.items():
        path = f"{prefix}[{key}]" if prefix else str(key)
        if type(value) is dict or isinstance(value, Mapping):  # a dict seen without the ABC's check
            _pairs_into(value, path, out)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    _pairs_into(item, f"{path}[{index}]", out)
                else:
                    out.append((f"{path}[{index}]", _scalar(item)))
        else:
            out.append((path, _scalar(value)))


def _quote(text: str, safe: str) -> str:
    plain = _PLAIN_KEY if safe else _PLAIN
    return text if plain.fullmatch(text) else quote(text, safe=safe)


@lru_cache(maxsize=4096)  # the same bracket keys, request after request
def _quoted_key(key: str) -> str:
    return _quote(key, "[]")


def encode_form(params: Mapping[str, Any]) -> str:
    """Encode with literal brackets (readable in curl lines and cassettes)."""
    return "&".join([f"{_quoted_key(k)}={_quote(v, '')}" for k, v in form_pairs(params)])


def _unescape(text: str, where: str) -> str:
    if "%" not in text and "+" not in text:
        return text
    try:
        return unquote_plus(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise FormError(f"Invalid UTF-8 in {where}.") from exc


@lru_cache(maxsize=4096)  # the same names come in request after request
def _split_key(key: str) -> tuple[str, ...]:
    if "[" not in key and "]" not in key and key:
        return (key,)
    match = _KEY.fullmatch(key)
    if match is None:
        raise FormError(f"Invalid parameter name: {key!r}.", param=key or None)
    parts = (match.group(1), *_SUBKEY.findall(match.group(2)))
    if len(parts) > MAX_DEPTH:
        raise FormError(f"Parameter nested too deeply: {key}.", param=key)
    return parts


def decode_form(body: bytes | str) -> dict[str, Any]:
    """Decode a bracket form body into nested dicts (``k[]`` appends to a list).

    Raises :class:`FormError` for anything a server must answer with a 400:
    bad escapes, invalid UTF-8, malformed or too-deep names, a name given twice,
    a name used both as a value and as an object.
    """
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormError("The request body is not valid UTF-8.") from exc
    else:
        text = body
    if "%" in text and _BAD_ESCAPE.search(text):
        raise FormError("Invalid percent-encoding in the request body.")
    result: dict[str, Any] = {}
    pieces = [p for p in text.split("&") if p]
    if len(pieces) > MAX_PAIRS:
        raise FormError(f"Too many parameters (more than {MAX_PAIRS}).")
    plain = "%" not in text and "+" not in text  # nothing to unescape anywhere
    for piece in pieces:
        raw_key, sep, raw_value = piece.partition("=")
        key = raw_key if plain else _unescape(raw_key, "a parameter name")
        if not sep:
            raise FormError(f"Parameter {key!r} has no value.", param=key or None)
        value = raw_value if plain else _unescape(raw_value, f"the value of {key}")
        _insert(result, _split_key(key), value)
    return result


def _insert(root: dict[str, Any], parts: tuple[str, ...], value: str) -> None:
    node: Any = root
    last = len(parts) - 1
    for depth in range(last):
        part = parts[depth]
        array = parts[depth + 1] == ""
        if isinstance(node, list):
            here = bracket_path(parts[: depth + 1])
            raise FormError(f"Invalid array parameter: {here}.", param=here)
        child = node.get(part)
        if child is None:
            child = [] if array else {}
            node[part] = child
        elif isinstance(child, str) or isinstance(child, list) != array:
            here = bracket_path(parts[: depth + 1])
            raise FormError(f"Conflicting values for {here}.", param=here)
        node = child
    name = parts[last]
    if isinstance(node, list):
        node.append(value)
    elif name == "" or name in node:
        full = bracket_path(parts)
        problem = "Invalid parameter name" if name == "" else f"Parameter {full} was given more than once"
        raise FormError(f"{problem}: {full}." if name == "" else f"{problem}.", param=full)
    else:
        node[name] = value
