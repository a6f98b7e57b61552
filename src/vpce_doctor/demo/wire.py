"""The wire corpus: real AWS answers as data, one entry per (protocol, case), each with the public
source its shape was read from (botocore's protocol test fixtures, an AWS documentation page, a public
issue quoting a real response) and the date it was read. Where nothing public shows an answer, the
entry says so in `no_source`, and the verdict that depends on it is the cautious one.

The simulated AWS answers only from here (or from moto): `answer(entry_id, **values)` fills the
entry's {placeholders} and returns a WireAnswer that remembers which entry it came from, so a test
can hold that no simulated answer lacks a source. tests/wire holds the agent's parsing equal to
botocore's on every entry.

Files: demo/wire/<protocol family>.json, each a list of entries:
  id, protocol (ec2 | query | json | rest-json | rest-xml | registry | frontend | imds | kubernetes),
  case, service, status, headers, body (with {placeholders}), code and message (what botocore's
  parser extracts), source {url, title, read, evidence}, no_source (why there is none, or null);
  optionally botocore_protocol (the parser a frontend answer is read with).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, Optional, Tuple

FILES = ("ec2", "query", "json", "rest_json", "s3", "registry", "registry_content", "frontend", "imds", "kubernetes",
         "common")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class WireAnswer(tuple):
    """(status, headers, body) as a simulated server sends it, plus the corpus entry it came from."""

    entry_id: str

    def __new__(cls, status: int, headers: Dict[str, str], body: bytes, entry_id: str) -> "WireAnswer":
        answer = super().__new__(cls, (status, headers, body))
        answer.entry_id = entry_id
        return answer


@dataclass(frozen=True)
class WireEntry:
    id: str
    protocol: str
    case: str
    service: str
    status: int
    headers: Dict[str, str]
    body: str
    code: Optional[str]
    message: str
    source: Optional[Dict[str, str]]
    no_source: Optional[str]
    botocore_protocol: Optional[str] = None
    notes: Dict[str, Any] = field(default_factory=dict)

    @property
    def placeholders(self) -> Tuple[str, ...]:
        text = self.body + "".join(self.headers.values())
        return tuple(sorted(set(_PLACEHOLDER.findall(text))))

    def render(self, **values: str) -> WireAnswer:
        """The answer with every {placeholder} filled; a placeholder without a value is a KeyError
        (a half-filled answer would be a shape AWS never sends)."""
        fill = lambda text: _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)  # noqa: E731
        headers = {name: fill(value) for name, value in self.headers.items()}
        return WireAnswer(self.status, headers, fill(self.body).encode("utf-8"), self.id)


def _entry(data: Dict[str, Any]) -> WireEntry:
    known = {"id", "protocol", "case", "service", "status", "headers", "body", "code", "message", "source",
             "no_source", "botocore_protocol"}
    return WireEntry(
        id=data["id"], protocol=data["protocol"], case=data["case"], service=data.get("service", ""),
        status=int(data["status"]), headers=dict(data.get("headers") or {}), body=data.get("body") or "",
        code=data.get("code"), message=data.get("message") or "", source=data.get("source"),
        no_source=data.get("no_source"), botocore_protocol=data.get("botocore_protocol"),
        notes={k: v for k, v in data.items() if k not in known})


@lru_cache(maxsize=1)
def corpus() -> Dict[str, WireEntry]:
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wire")
    entries: Dict[str, WireEntry] = {}
    for name in FILES:
        path = os.path.join(here, name + ".json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as handle:
            for data in json.load(handle):
                entry = _entry(data)
                if entry.id in entries:
                    raise ValueError("wire corpus: %s appears twice" % entry.id)
                entries[entry.id] = entry
    return entries


def answer(entry_id: str, **values: str) -> WireAnswer:
    return corpus()[entry_id].render(**values)
