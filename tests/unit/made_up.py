"""Made-up socket accounting for the unit tests of the model: the fields the rules read, with
an idle, writable socket's values unless a test says otherwise."""

from __future__ import annotations

from dataclasses import dataclass

SNDBUF = 42000


@dataclass
class Acct:
    wmem_queued: int = 0
    sndbuf: int = SNDBUF
    notsent: int = 0
    notsent_lowat: int = 0
    inq: int = 0
    rcvlowat: int = 1
    outq: int = 0
    state: str = "ESTABLISHED"

    @property
    def free(self) -> int:
        return self.sndbuf - self.wmem_queued
