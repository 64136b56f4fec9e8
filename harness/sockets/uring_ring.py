"""A small io_uring of our own over the raw syscalls: only what poll requests need.

Python has no io_uring in its standard library, and the PyPI binding we tried (``liburing``)
ships wheels built for CPUs with AVX-512: they die with SIGILL in the QEMU guests (TCG), so
the suite keeps to ``io_uring_setup(2)``, ``mmap(2)`` of the two rings and
``io_uring_enter(2)`` through ctypes.  The layouts are those of
include/uapi/linux/io_uring.h (``struct io_uring_sqe`` 64 bytes, ``struct io_uring_cqe`` 16
bytes, ``struct io_uring_params`` 120 bytes); ``encode_sqe`` and ``decode_cqe`` are pure and
unit-tested without root or io_uring.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import struct
from dataclasses import dataclass

NR_SETUP, NR_ENTER = 425, 426  # the same on every architecture (asm-generic/unistd.h)
OP_POLL_ADD, OP_POLL_REMOVE = 6, 7
POLL_ADD_MULTI = 1 << 0        # IORING_POLL_ADD_MULTI, in the sqe's len field (5.13)
CQE_F_MORE = 1 << 1            # IORING_CQE_F_MORE: the multishot request stays armed
ENTER_GETEVENTS = 1 << 0
OFF_SQ_RING, OFF_CQ_RING, OFF_SQES = 0, 0x8000000, 0x10000000

SQE = struct.Struct("<BBHiQQIIQHHiQQ")   # opcode flags ioprio fd off addr len poll32_events user_data ...
CQE = struct.Struct("<QiI")              # user_data res flags
PARAMS = struct.Struct("<7I3I" + "7IIQ" + "8IQ")  # io_uring_params, sq_off, cq_off
assert SQE.size == 64 and CQE.size == 16 and PARAMS.size == 120


@dataclass(frozen=True)
class Cqe:
    user_data: int
    res: int
    flags: int

    @property
    def more(self) -> bool:
        """The request stays armed and will post again (multishot)."""
        return bool(self.flags & CQE_F_MORE)


def encode_sqe(opcode: int, fd: int = -1, *, addr: int = 0, length: int = 0, poll_events: int = 0,
               user_data: int = 0) -> bytes:
    """One submission queue entry. For POLL_ADD the events are the 32-bit ``poll32_events``
    (little-endian on the ring, as the kernel reads them on x86 and arm64) and ``length``
    carries IORING_POLL_ADD_MULTI; for POLL_REMOVE ``addr`` is the user_data to cancel."""
    return SQE.pack(opcode, 0, 0, fd, 0, addr, length, poll_events & 0xFFFFFFFF, user_data, 0, 0, 0, 0, 0)


def poll_add_sqe(fd: int, events: int, user_data: int, multishot: bool) -> bytes:
    return encode_sqe(OP_POLL_ADD, fd, length=POLL_ADD_MULTI if multishot else 0,
                      poll_events=events, user_data=user_data)


def decode_cqe(raw: bytes) -> Cqe:
    return Cqe(*CQE.unpack(raw))


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall(nr: int, *args: int | ctypes.c_void_p) -> int:
    ret = _libc.syscall(ctypes.c_long(nr), *[a if isinstance(a, ctypes.c_void_p) else ctypes.c_long(a) for a in args])
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


class Ring:
    """An io_uring instance: submit SQEs one at a time, reap every CQE ready.

    Use as a context manager; ``close`` unmaps the rings and closes the fd (which cancels
    every request still armed)."""

    def __init__(self, entries: int = 16):
        params = ctypes.create_string_buffer(PARAMS.size)
        self.fd = _syscall(NR_SETUP, entries, ctypes.cast(params, ctypes.c_void_p))
        p = PARAMS.unpack(params.raw)
        sq_entries, cq_entries = p[0], p[1]
        self.sq_off = dict(zip(("head", "tail", "mask", "entries", "flags", "dropped", "array"), p[10:17]))
        self.cq_off = dict(zip(("head", "tail", "mask", "entries", "overflow", "cqes"), p[19:25]))
        try:
            self.sq = mmap.mmap(self.fd, self.sq_off["array"] + 4 * sq_entries, offset=OFF_SQ_RING)
            self.cq = mmap.mmap(self.fd, self.cq_off["cqes"] + CQE.size * cq_entries, offset=OFF_CQ_RING)
            self.sqes = mmap.mmap(self.fd, SQE.size * sq_entries, offset=OFF_SQES)
        except OSError:
            os.close(self.fd)
            raise
        self.sq_mask = self._u32(self.sq, self.sq_off["mask"])
        self.cq_mask = self._u32(self.cq, self.cq_off["mask"])

    @staticmethod
    def _u32(m: mmap.mmap, off: int) -> int:
        return struct.unpack_from("<I", m, off)[0]

    def submit(self, sqe: bytes) -> None:
        """Queue one SQE and enter the kernel with it (task work runs: completions that the
        request makes at once, e.g. a poll that finds the mask non-empty, are posted)."""
        tail = self._u32(self.sq, self.sq_off["tail"])
        idx = tail & self.sq_mask
        self.sqes[idx * SQE.size:(idx + 1) * SQE.size] = sqe
        struct.pack_into("<I", self.sq, self.sq_off["array"] + 4 * idx, idx)
        struct.pack_into("<I", self.sq, self.sq_off["tail"], (tail + 1) & 0xFFFFFFFF)
        done = _syscall(NR_ENTER, self.fd, 1, 0, ENTER_GETEVENTS, 0, 0)
        if done != 1:
            raise OSError(errno.EIO, f"io_uring_enter submitted {done} of 1 SQE")

    def reap(self) -> list[Cqe]:
        """Every completion posted so far, oldest first (an enter without waiting first runs
        the task work the wakeups queued)."""
        _syscall(NR_ENTER, self.fd, 0, 0, ENTER_GETEVENTS, 0, 0)
        head = self._u32(self.cq, self.cq_off["head"])
        tail = self._u32(self.cq, self.cq_off["tail"])
        out = []
        while head != tail:
            off = self.cq_off["cqes"] + CQE.size * (head & self.cq_mask)
            out.append(decode_cqe(self.cq[off:off + CQE.size]))
            head = (head + 1) & 0xFFFFFFFF
        struct.pack_into("<I", self.cq, self.cq_off["head"], head)
        return out

    def close(self) -> None:
        for m in (self.sqes, self.cq, self.sq):
            m.close()
        os.close(self.fd)

    def __enter__(self) -> "Ring":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
