# __main__.py of dist/vpce-doctor.pex (built by packaging/build_archive.py; read its docstring).
# Unpacks the check path and this machine's psutil once into PEX_ROOT, then runs the CLI with the
# TUI's stack imported straight from this file. Kept to syntax and modules every python3 parses.
import os
import platform
import atexit
import shutil
import stat
import sys
import tempfile
import zipfile

ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def pex_root():
    root = os.environ.get("PEX_ROOT")
    if root:
        return root
    home = os.path.expanduser("~")
    if home != "~" and os.access(home, os.W_OK):
        return os.path.join(home, ".pex")
    return os.path.join(os.environ.get("TMPDIR", "/tmp"), "vpce-doctor-pex-%d" % os.getuid())


def private(path):
    """Whether only this user (or root) can write the directory: code unpacked where another user
    can write would be theirs to replace, and this runs as root."""
    try:
        info = os.lstat(path)
    except OSError:
        return True  # not there yet: we create it, 0700
    return stat.S_ISDIR(info.st_mode) and info.st_uid in (os.getuid(), 0) and not info.st_mode & 0o022


def unpack(archive, target):
    """Extract _disk/ and _native/<arch>/ into target, atomically: a half-written run never counts."""
    arch = ARCHES.get(platform.machine().lower())
    wanted = ["_disk/"] + (["_native/%s/" % arch] if arch else [])
    tmp = "%s.tmp-%d" % (target, os.getpid())
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            for prefix in wanted:
                if info.filename.startswith(prefix) and not info.filename.endswith("/"):
                    path = os.path.join(tmp, info.filename[len(prefix):])
                    directory = os.path.dirname(path)
                    if not os.path.isdir(directory):
                        os.makedirs(directory, mode=0o700)
                    with open(path, "wb") as out:
                        out.write(z.read(info))
    try:
        os.rename(tmp, target)
    except OSError:
        # Another run unpacked the same archive first: theirs is identical.
        shutil.rmtree(tmp, ignore_errors=True)
        if not os.path.isdir(target):
            raise


def main():
    if sys.version_info < (3, 9):
        sys.stderr.write("vpce-doctor: needs python3 >= 3.9 (this is %d.%d)\n" % sys.version_info[:2])
        return 3
    archive = os.path.dirname(os.path.abspath(__file__))
    with zipfile.ZipFile(archive) as z:
        digest = z.read("_archive_hash").decode("ascii").strip()
    root = pex_root()
    target = os.path.join(root, "vpce-doctor", digest)
    if not all(private(d) for d in (root, os.path.dirname(target), target)):
        # A shared or foreign PEX_ROOT (a /tmp fallback someone pre-created): unpack into a fresh
        # private directory for this run only, slower but never someone else's code.
        scratch = tempfile.mkdtemp(prefix="vpce-doctor-")
        atexit.register(shutil.rmtree, scratch, True)
        target = os.path.join(scratch, digest)
    if not os.path.isdir(target):
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            os.makedirs(parent, mode=0o700, exist_ok=True)
        unpack(archive, target)
    # The unpacked tree first (bytecode cached beside it), then the archive itself (zipimport).
    sys.path[:] = [target, archive] + [p for p in sys.path[1:] if p not in (archive, target)]
    from vpce_doctor.cli import main as cli_main
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
