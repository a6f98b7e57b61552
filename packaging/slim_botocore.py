"""Rewrite botocore's wheel without the API models the agent never loads (python slim_botocore.py WHEEL).

The agent uses botocore for SigV4 signing and the credential chain only. Of botocore's ~2,000
files (28 MB unpacked) most are the JSON models of ~400 services; a node unpacks the archive on
its first run, so every one of them is time on a fresh node. Kept: the models the credential
chain can load (sts for assume-role and web identity, sso and sso-oidc for SSO profiles) and
every file outside data/<service>/ (endpoints, partitions, retry and default configuration).
The wheel keeps its name and version; its RECORD lists exactly what remains.
"""
from __future__ import annotations

import os
import sys
import zipfile

KEEP_MODELS = {"sts", "sso", "sso-oidc"}


def dropped(name: str) -> bool:
    parts = name.split("/")
    return len(parts) > 3 and parts[0] == "botocore" and parts[1] == "data" and parts[2] not in KEEP_MODELS


def slim(path: str) -> int:
    """Rewrites the wheel in place; returns how many files were dropped."""
    temporary = path + ".slim"
    count = 0
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if dropped(info.filename):
                count += 1
                continue
            data = source.read(info.filename)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = data.decode("utf-8").splitlines(True)
                data = "".join(line for line in lines if not dropped(line.split(",", 1)[0])).encode("utf-8")
            target.writestr(info, data)
    os.replace(temporary, path)
    return count


def main(argv) -> int:
    for path in argv:
        if os.path.basename(path).startswith("botocore-"):
            sys.stdout.write("%s: %d model files dropped\n" % (os.path.basename(path), slim(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
