"""Secrets never leave the process: every rendered report passes through here.

Known values (the credentials this run signed with) are replaced wherever they appear;
patterns catch the rest (access key ids, SigV4 signatures, presigned URL parts, tokens)."""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List

MASK = "***"
_PATTERNS = [
    re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\b"),
    re.compile(r"(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s\"']+", re.I),
    re.compile(r"(Signature=)[0-9a-f]{32,}", re.I),
    re.compile(r"(Authorization:?\s*\"?)(?:AWS4-HMAC-SHA256|Basic|Bearer)\s+[^\"\n]+", re.I),
    re.compile(r"(\"?(?:authorizationToken|SecretAccessKey|SessionToken|Token)\"?\s*[:=]\s*\"?)[A-Za-z0-9+/=_\-]{16,}", re.I),
    # userinfo in a URL (a proxy's http://user:password@host:3128): the whole userinfo goes
    re.compile(r"(\b[a-z][a-z0-9+.\-]*://)[^/\s\"'<>]+(?=@)", re.I),
]
# what the memo keeps: bounded, so a hostile answer full of distinct or huge strings cannot grow it
_MEMO_MAX, _MEMO_LONGEST = 20000, 512
PREFIX_MIN = 8  # the shortest piece of a known secret, left at a cut, that is still masked


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()):
        # longest first so a token containing a key id is masked whole
        self.secrets: List[str] = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)
        # a report repeats its strings (hostnames, states, resolver addresses): each is masked once
        self._done: Dict[str, str] = {}

    @classmethod
    def for_credentials(cls, *credentials: Any) -> "Redactor":
        """Masks the values of every credentials object given (None ones are skipped)."""
        return cls([getattr(c, name, None) or "" for c in credentials if c is not None
                    for name in ("access_key", "secret_key", "token")])

    def text(self, value: str) -> str:
        done = self._done.get(value)
        if done is None:
            done = self._mask(value)
            if len(value) <= _MEMO_LONGEST and len(self._done) < _MEMO_MAX:
                self._done[value] = done
        return done

    def _mask(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        for secret in self.secrets:
            value = _mask_cut_prefix(value, secret)
        for pattern in _PATTERNS:
            value = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, value)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value

    def report(self, report):
        report.redactor = self
        return report


def _mask_cut_prefix(value: str, secret: str) -> str:
    """A message cut to size may end inside a secret: mask the secret's longest prefix that ends
    the text (optionally followed by the ellipsis a cut adds)."""
    if len(secret) <= PREFIX_MIN:
        return value
    body = value.rstrip(".…")
    tail = value[len(body):]
    # A prefix of at least PREFIX_MIN characters that ends the body starts with secret[:PREFIX_MIN]:
    # only where that occurs near the end can one begin, and the leftmost such place is the longest.
    head = secret[:PREFIX_MIN]
    start = body.find(head, max(0, len(body) - (len(secret) - 1)))
    while start != -1:
        if secret.startswith(body[start:]):
            return body[:start] + MASK + tail
        start = body.find(head, start + 1)
    return value
