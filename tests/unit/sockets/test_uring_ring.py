"""The io_uring submission and completion encoding, and the probes' reasons: no root, no ring
needed (the syscalls are replaced where a test needs a refusal)."""

import errno
import struct

import pytest

from harness.model import masks as M
from harness.sockets import uring, uring_ring
from harness.sockets.uring_ring import (CQE, CQE_F_MORE, OP_POLL_ADD, OP_POLL_REMOVE, POLL_ADD_MULTI, SQE,
                                        decode_cqe, encode_sqe, poll_add_sqe)


def fields(raw: bytes) -> dict:
    names = ("opcode", "flags", "ioprio", "fd", "off", "addr", "len", "poll32_events", "user_data",
             "buf_index", "personality", "splice_fd_in", "addr3", "pad")
    return dict(zip(names, SQE.unpack(raw)))


def test_poll_add_one_shot_layout():
    raw = poll_add_sqe(7, M.IN | M.OUT | M.RDHUP, user_data=42, multishot=False)
    assert len(raw) == 64
    f = fields(raw)
    assert (f["opcode"], f["fd"], f["len"], f["user_data"]) == (OP_POLL_ADD, 7, 0, 42)
    assert f["poll32_events"] == M.IN | M.OUT | M.RDHUP
    # include/uapi/linux/io_uring.h: opcode at 0, fd at 4, len at 24, poll32_events at 28, user_data at 32
    assert raw[0] == OP_POLL_ADD and struct.unpack_from("<i", raw, 4)[0] == 7
    assert struct.unpack_from("<I", raw, 28)[0] == M.IN | M.OUT | M.RDHUP
    assert struct.unpack_from("<Q", raw, 32)[0] == 42


def test_multishot_flag_travels_in_len():
    f = fields(poll_add_sqe(3, M.IN, user_data=1, multishot=True))
    assert f["len"] == POLL_ADD_MULTI == 1
    assert fields(poll_add_sqe(3, M.IN, user_data=1, multishot=False))["len"] == 0


def test_poll_remove_names_the_request_in_addr():
    f = fields(encode_sqe(OP_POLL_REMOVE, addr=5, user_data=0))
    assert (f["opcode"], f["addr"], f["fd"], f["user_data"]) == (OP_POLL_REMOVE, 5, -1, 0)


def test_cqe_decoding_and_more_flag():
    c = decode_cqe(CQE.pack(9, M.IN | M.PRI, CQE_F_MORE))
    assert (c.user_data, c.res, c.more) == (9, M.IN | M.PRI, True)
    done = decode_cqe(CQE.pack(9, -errno.ECANCELED, 0))
    assert done.res == -errno.ECANCELED and not done.more


def test_events_wider_than_32_bits_are_refused():
    with pytest.raises(struct.error):
        SQE.pack(OP_POLL_ADD, 0, 0, 1, 0, 0, 0, 1 << 32, 0, 0, 0, 0, 0, 0)


def refusing(err: int):
    def setup(*_args, **_kw):
        raise OSError(err, "refused")
    return setup


@pytest.mark.parametrize("err, sysctl, words", [
    pytest.param(errno.ENOSYS, None, "ENOSYS", id="no-io-uring-or-seccomp-enosys"),
    pytest.param(errno.EPERM, "2", "kernel.io_uring_disabled = 2", id="disabled-by-sysctl"),
    pytest.param(errno.EPERM, "0", "seccomp", id="seccomp-eperm"),
])
def test_probe_names_the_refusal(monkeypatch, err, sysctl, words):
    monkeypatch.setattr(uring, "Ring", refusing(err))
    monkeypatch.setattr(uring, "_sysctl", lambda path: sysctl)
    problem = uring.uring_problem()
    assert problem is not None and words in problem


def _ring_answering(cqe):
    """A stand-in Ring whose one completion is ``cqe``."""
    class Ring:
        def __init__(self, *_):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def close(self):
            pass

        def submit(self, sqe):
            pass

        def reap(self):
            return [cqe]

    return Ring


def test_multishot_probe_rejects_einval(monkeypatch):
    monkeypatch.setattr(uring, "Ring", _ring_answering(uring_ring.Cqe(1, -errno.EINVAL, 0)))
    assert "5.13" in uring.multishot_problem()


def test_multishot_probe_rejects_a_request_that_ends(monkeypatch):
    monkeypatch.setattr(uring, "Ring", _ring_answering(uring_ring.Cqe(1, M.IN, 0)))
    assert "without IORING_CQE_F_MORE" in uring.multishot_problem()
