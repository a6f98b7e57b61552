"""Side by side within a run's deadline: calls in daemon threads (run_parallel) and values
computed once however many threads ask (Memo). A run waits on these, never past its deadline,
and a daemon thread never keeps the process alive after it."""
from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Hashable, List, Optional, Sequence


class DeadlineExceeded(Exception):
    pass


class Pending:
    """One value some thread computes and others wait for: set `event` once value or error is in."""

    __slots__ = ("event", "value", "error")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: Any = None
        self.error: Optional[BaseException] = None


class Memo:
    """Compute each key once; concurrent callers wait (bounded) for the first one."""

    def __init__(self, remaining: Callable[[], float]):
        self._lock = threading.Lock()
        self._entries: Dict[Hashable, Pending] = {}
        self._remaining = remaining

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None
            if owner:
                entry = self._entries[key] = Pending()
        if owner:
            try:
                entry.value = compute()
            except BaseException as exc:  # handed to every waiter, re-raised below
                entry.error = exc
            finally:
                entry.event.set()
        elif not entry.event.wait(max(0.0, self._remaining())):
            raise DeadlineExceeded("waited for %r until the run deadline" % (key,))
        if entry.error is not None:
            raise entry.error
        return entry.value


def run_parallel(calls: Sequence[Callable[[], Any]], remaining: Callable[[], float],
                 inline_last: bool = False) -> List[Any]:
    """Run calls in daemon threads; each slot holds the value, or the exception raised,
    or DeadlineExceeded. A daemon thread never keeps the process alive past the run.

    inline_last: the last call runs in the calling thread (one thread fewer per call; a run starts
    a few hundred). Only for callers that are themselves a thread the runner waits on with the run
    deadline (a check), and calls bounded by their own step timeout: the caller then returns when
    that call does, not at the deadline."""
    results: List[Any] = [DeadlineExceeded("did not finish before the run deadline")] * len(calls)
    threads = []

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            results[index] = call()
        except Exception as exc:
            results[index] = exc

    spawned = len(calls) - 1 if inline_last and calls else len(calls)
    for index, call in enumerate(calls[:spawned]):
        thread = threading.Thread(target=worker, args=(index, call), daemon=True)
        thread.start()
        threads.append(thread)
    if spawned < len(calls):
        worker(spawned, calls[spawned])
    for thread in threads:
        thread.join(max(0.0, remaining()))
    return list(results)
