"""core/files.py: special files refused without blocking, every read capped."""
import os
import threading
import time

import pytest

from vpce_doctor.core.files import FileRefused, read_bytes_capped, read_text_capped


def test_regular_file_read_whole(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"nameserver 10.0.0.2\n")
    assert read_text_capped(str(path), 100) == "nameserver 10.0.0.2\n"


def test_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 101)
    with pytest.raises(FileRefused, match="larger than 100 bytes"):
        read_bytes_capped(str(path), 100)
    assert read_bytes_capped(str(path), 101) == b"x" * 101


@pytest.mark.parametrize("path,kind", [("/dev/zero", "character device"), ("/dev/urandom", "character device")])
def test_endless_devices_are_refused(path, kind):
    with pytest.raises(FileRefused, match=kind):
        read_text_capped(path, 1 << 20)


def test_dev_null_reads_as_empty():
    assert read_text_capped("/dev/null", 10) == ""


def test_directory_is_refused(tmp_path):
    with pytest.raises(FileRefused, match="directory"):
        read_text_capped(str(tmp_path), 10)


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_refusal(str(fifo))), daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(10)
    assert outcome == ["FIFO"], "a FIFO with no writer must be refused at once, not waited on"
    assert time.monotonic() - started < 10


def test_symlink_loop_is_an_oserror(tmp_path):
    loop = tmp_path / "loop"
    os.symlink(str(loop), str(loop))
    with pytest.raises(OSError):
        read_text_capped(str(loop), 10)


def _refusal(path):
    try:
        read_text_capped(path, 10)
    except FileRefused as exc:
        return "FIFO" if "FIFO" in str(exc) else str(exc)
    return "read"
