"""`with Thing() as t:` for things with start() and stop(): a failed start is stopped too,
so half-built worlds and labs never outlive their test."""
from __future__ import annotations

import threading
import time
from typing import Iterable, List


class StartStop:
    def start(self) -> None:  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_all(things: Iterable[object], within: float = 5.0) -> List[object]:
    """Stops every thing at once, each in its own thread, and waits at most `within` seconds.

    A socketserver's shutdown() waits for its serve loop's next poll (0.1 s): forty of them one
    after another were 3 s of staring at a dead screen after `q`. Side by side it is one poll.
    Returns what had not stopped in time (their threads are daemons: the process may still end);
    a stop that raises counts as stopped, there is nothing better to do with it at teardown."""
    def stop(thing) -> None:
        try:
            thing.stop()
        except Exception:
            pass

    threads = [(thing, threading.Thread(target=stop, args=(thing,), daemon=True)) for thing in things]
    for _, thread in threads:
        thread.start()
    deadline = time.monotonic() + within
    for _, thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [thing for thing, thread in threads if thread.is_alive()]
