"""Reading files an operator (or a customer) handed us: regular files only, never unbounded.

A config, resolv.conf or report path may name /dev/zero (endless), a FIFO (blocks the open
until a writer comes), a terminal or a symlink loop. Every file the agent reads goes
through here: special files are refused with one line, and no read takes more than `limit`
bytes, so a run neither hangs nor fills its memory on a careless path.
"""
from __future__ import annotations

import errno
import os
import stat

# Bounds for the files we read; far above any real one.
CONFIG_LIMIT = 1 << 20        # config.toml
RESOLV_CONF_LIMIT = 1 << 20   # resolv.conf (glibc reads only the first few nameservers anyway)
REPORT_LIMIT = 64 << 20       # a saved JSON report (view, fleet, last.json)
SMALL_LIMIT = 1 << 20         # kubeconfigs, nodeadm configs, /proc/PID/environ


_DEV_NULL = os.makedev(1, 3)  # Linux's /dev/null


class FileRefused(OSError):
    """Not a regular file, or larger than the limit. An OSError, so callers that already
    treat an unreadable file as missing keep doing so."""


def read_bytes_capped(path: str, limit: int) -> bytes:
    """The whole content of a regular file of at most `limit` bytes.

    Raises FileNotFoundError/PermissionError/OSError as open() would, and FileRefused for
    a FIFO, device, socket or directory (without blocking on it) or a file over the limit."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if stat.S_ISCHR(mode) and info.st_rdev == _DEV_NULL:
            return b""  # `--config /dev/null` is the usual way to say "no config"
        if not stat.S_ISREG(mode):
            raise FileRefused(errno.EINVAL, "not a regular file (%s)" % _kind(mode), path)
        if info.st_size > limit:  # refused before a byte is read (a sparse file can claim gigabytes)
            raise FileRefused(errno.EFBIG, "larger than %d bytes" % limit, path)
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileRefused(errno.EFBIG, "larger than %d bytes" % limit, path)
        return b"".join(chunks)
    finally:
        os.close(fd)


def package_text(module: str, name: str) -> str:
    """A data file shipped beside a module (`package_text(__name__, "catalogue.json")`), read through
    the module's loader: a plain file, or a member of a zip on sys.path. importlib.resources does the
    same and costs ~5 ms of imports (pathlib, tempfile, zipfile) on the check path."""
    import sys

    spec = sys.modules[module].__spec__
    return spec.loader.get_data(os.path.join(os.path.dirname(spec.origin), name)).decode("utf-8")


def read_text_capped(path: str, limit: int, errors: str = "replace") -> str:
    """read_bytes_capped, decoded as UTF-8 (undecodable bytes replaced by default)."""
    return read_bytes_capped(path, limit).decode("utf-8", errors)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "a special file"
