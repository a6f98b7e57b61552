"""`with Thing() as t:` for things with start() and stop(): a failed start is stopped too,
so half-built worlds and labs never outlive their test."""
from __future__ import annotations


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
