"""Read an API reference page (markdown) into entries, examples and statements.

The pages come in two shapes: one with line breaks, one on a single long line.
Nothing here depends on line breaks: the text is scanned for three kinds of
token (code fences, headings, ``- `path` (spec)`` entries) and whatever lies
between two tokens belongs to the earlier one.
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass, field

__all__ = ["CodeBlock", "Entry", "ParsedDoc", "curl_form_pairs", "parse_doc", "sentences"]

_TOKEN = re.compile(
    r"```(?P<lang>[\w-]*)[ \t]*\n?(?P<code>.*?)```"
    r"|(?<!\S)(?P<hashes>#{1,6})\s+"
    r"|(?<!\S)-\s+`(?P<path>[A-Za-z0-9_.]+)`\s+\((?P<spec>[^()]*)\)",
    re.S,
)
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")


@dataclass
class Entry:
    """One documented field: ``path``, its type and flags, its prose."""

    path: str
    type: str
    flags: tuple[str, ...]
    text: str
    section: str

    @property
    def required(self) -> bool:
        return "required" in self.flags


@dataclass
class CodeBlock:
    lang: str
    code: str
    section: str


@dataclass
class ParsedDoc:
    title: str = ""
    sections: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    code: list[CodeBlock] = field(default_factory=list)


def _clean(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def _heading_title(text: str) -> tuple[str, str]:
    """Split the text after a heading marker into (title, trailing prose)."""
    stripped = text.lstrip(" \t")
    if "\n" in stripped:
        title, _, rest = stripped.partition("\n")
        return _clean(title), rest
    return _clean(stripped), ""


def parse_doc(text: str) -> ParsedDoc:
    doc = ParsedDoc()
    section = ""
    matches = list(_TOKEN.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        tail = text[match.end() : end]
        if match.group("hashes"):
            title, _ = _heading_title(tail)
            if len(match.group("hashes")) == 1 and not doc.title:
                doc.title = title
            else:
                section = title
                doc.sections.append(title)
        elif match.group("path"):
            spec = [s.strip() for s in match.group("spec").split(",")]
            doc.entries.append(
                Entry(
                    path=match.group("path"),
                    type=spec[0],
                    flags=tuple(spec[1:]),
                    text=_clean(tail),
                    section=section,
                )
            )
        else:
            doc.code.append(CodeBlock(match.group("lang"), match.group("code").strip(), section))
    return doc


def sentences(text: str) -> list[str]:
    """Split cleaned prose into sentences (a period, space, then a capital or backtick)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def curl_form_pairs(code: str) -> list[tuple[str, str]]:
    """The ``-d key=value`` pairs of a curl example, in order."""
    words = shlex.split(re.sub(r"\\\s+", " ", code))
    pairs: list[tuple[str, str]] = []
    for flag, arg in itertools.pairwise(words):
        if flag in ("-d", "--data", "--data-urlencode"):
            key, _, value = arg.partition("=")
            pairs.append((key, value))
    return pairs
