"""Builds dist/vpce-doctor.pex: one zip file that runs on python3.9-3.13, x86_64 and aarch64.

    python packaging/build_archive.py OUT WHEEL...

Why not pex's own runtime: on its first run a pex unpacks every file of every wheel plus its own
bootstrap (twice) and builds a virtualenv: ~2,000 file creations, 2-3 s on a node. Most of those files
are the TUI's stack (textual, rich, pygments, markdown-it), which the check never loads. Here Python's
own zipimport reads pure-Python packages straight from the archive, and only what must be a real file
is unpacked once, into PEX_ROOT (the name the wrapper and the systemd unit already set):
- the check path (vpce_doctor, botocore, dnspython, urllib3, dateutil, jmespath, tomli...): botocore
  reads its data with os.path, textual reads the TUI's .tcss beside its module, and on disk Python
  keeps their bytecode, so later runs do not recompile them;
- psutil's C extension, of this machine's architecture (both are in the archive).
The TUI's stack stays in the archive (imported from the zip on the rare interactive run).
"""
import hashlib
import io
import os
import sys
import zipfile

# Distributions read from the archive (zipimport) instead of unpacked: the TUI's stack only.
ZIPPED = {"textual", "rich", "pygments", "markdown_it_py", "mdit_py_plugins", "mdurl", "linkify_it_py",
          "uc_micro_py", "platformdirs", "typing_extensions"}
ARCHES = ("x86_64", "aarch64")
BOOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "archive_boot.py")


def members(wheel):
    """(name inside the archive, bytes) for each file of a wheel, skipping its .data (scripts)."""
    base = os.path.basename(wheel)
    arch = next((a for a in ARCHES if a in base), None)
    if arch:
        prefix = "_native/%s/" % arch
    elif base.split("-", 1)[0].lower() in ZIPPED:
        prefix = ""
    else:
        prefix = "_disk/"
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if info.is_dir() or info.filename.split("/", 1)[0].endswith(".data"):
                continue
            yield prefix + info.filename, z.read(info)


def build(out, wheels):
    files = {}
    for wheel in sorted(wheels):
        for name, data in members(wheel):
            files[name] = data
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    with open(BOOT, "rb") as f:
        boot = f.read()
    digest.update(boot)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("__main__.py", boot)
        z.writestr("_archive_hash", digest.hexdigest()[:20])
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, files[name])
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"#!/usr/bin/env python3\n")
        f.write(buf.getvalue())
    os.chmod(tmp, 0o755)
    os.replace(tmp, out)
    return len(files)


if __name__ == "__main__":
    count = build(sys.argv[1], sys.argv[2:])
    print("%s: %d files" % (sys.argv[1], count))
