"""Secrets never leave the process: every rendered report passes through here.

Known values (the credentials this run signed with) are replaced wherever they appear;
patterns catch the rest (access key ids, SigV4 signatures, presigned URL parts, tokens)."""
from __future__ import annotations

import re
from typing import Any, Iterable, List

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
PREFIX_MIN = 8  # the shortest piece of a known secret, left at a cut, that is still masked


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()):
        # longest first so a token containing a key id is masked whole
        self.secrets: List[str] = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    @classmethod
    def for_credentials(cls, *credentials: Any) -> "Redactor":
        """Masks the values of every credentials object given (None ones are skipped)."""
        return cls([getattr(c, name, None) or "" for c in credentials if c is not None
                    for name in ("access_key", "secret_key", "token")])

    def text(self, value: str) -> str:
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
    for size in range(min(len(secret) - 1, len(body)), PREFIX_MIN - 1, -1):
        if body.endswith(secret[:size]):
            return body[:-size] + MASK + tail
    return value
