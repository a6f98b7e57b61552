"""Text from outside (API messages, IMDS values, DNS names, a customer's report) on its way to
a human: a terminal, the journal, a fleet page. One function makes it inert.

A newline in an API message would forge a second `<0>` journal line; ESC starts a terminal
escape sequence (clear screen, set the window title, OSC 52 clipboard writes); C1 controls are
8-bit escape introducers on some terminals; bidi overrides and line/paragraph separators make a
line read differently from what it holds. Each becomes a visible `\\xNN` / `\\uNNNN` escape
(`\\n`, `\\r`, `\\t` for the common ones). JSON output never goes through here: JSON escapes by
itself and must stay exact.
"""
from __future__ import annotations

import unicodedata
from typing import Any

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# bidi embeddings/overrides/isolates and marks: what makes "Trojan Source" lines possible
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Cc: C0, DEL, C1; Zl/Zp: U+2028/U+2029, which some terminals and log viewers break lines on
_UNSAFE_CATEGORIES = ("Cc", "Zl", "Zp")
MAX_DEPTH = 64


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def unsafe(char: str) -> bool:
    return char in _BIDI or unicodedata.category(char) in _UNSAFE_CATEGORIES


def printable(value: Any) -> str:
    """`value` as text that shows the same on every terminal and stays on one line."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and not any(c in _BIDI for c in text):  # the common case, fast
        return text
    return "".join(_escape(c) if unsafe(c) else c for c in text)


def printable_data(value: Any, _depth: int = 0) -> Any:
    """Every string (keys too) in a JSON-like structure made printable; the shape is kept
    (tuples stay tuples). Deeper than MAX_DEPTH is cut to "..." rather than recursed into."""
    if isinstance(value, str):
        return printable(value)
    if _depth > MAX_DEPTH:
        return "..."
    if isinstance(value, dict):
        return {printable(k) if isinstance(k, str) else k: printable_data(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [printable_data(v, _depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(printable_data(v, _depth + 1) for v in value)
    return value


def has_raw_control(text: str) -> bool:
    """True when `text` holds a character printable() would have escaped, line breaks aside:
    what tests assert never reaches an output."""
    return any(unsafe(c) for c in text if c != "\n")
