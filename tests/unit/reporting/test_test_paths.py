"""The one-way mapping from result keys to KCIDB test paths and LAVA/KTAP case names."""

import itertools
import string

import pytest

from harness.reporting import names


def decode(segment: str) -> str:
    """The inverse the module does not need, to prove no two keys share a name."""
    out, i = bytearray(), 0
    while i < len(segment):
        if segment[i] != "_":
            out += segment[i].encode()
            i += 1
        elif segment[i + 1] == "_":
            out += b"_"
            i += 2
        else:
            out.append(int(segment[i + 1:i + 3], 16))
            i += 3
    return out.decode()


def test_a_plain_key_keeps_its_words():
    key = "epollout/out-of-space-then-acks[ET-cubic-ipv4-eagain]"
    assert names.test_path(key) == "epoll_semantics.epollout.out-of-space-then-acks.ET-cubic-ipv4-eagain"
    assert names.case_name(key) == "epollout.out-of-space-then-acks.ET-cubic-ipv4-eagain"
    assert names.test_path("listen/accept-queue") == "epoll_semantics.listen.accept-queue"


def test_characters_the_schema_refuses_are_escaped_and_every_path_matches_its_pattern():
    for ch in string.printable + "\u00e9\u2014":
        key = f"t_o/s.c[{ch}x-{ch}]"
        path = names.test_path(key)
        assert names.KCIDB_PATH.match(path), (ch, path)
        assert [decode(s) for s in path.split(".")[1:]] == ["t_o", "s.c", f"{ch}x-{ch}"]


def test_no_two_keys_share_a_name():
    # the characters most likely to collide once mapped: '_', '.', '-', and what escapes look like
    alphabet = ["_", ".", "-", "2e", "_2e", "a", "/"]
    ids = {"".join(p) for n in range(1, 4) for p in itertools.product(alphabet, repeat=n)} - {""}
    keys = [f"topic/scen[{i}]" for i in ids if "/" not in i]
    mapped = {names.test_path(k) for k in keys}
    assert len(mapped) == len(keys)


@pytest.mark.parametrize("bad", ["no-slash", "a/b/c[x]", "/scenario[x]", "topic/[x]", "t/s[]"])
def test_what_is_no_result_key_is_refused(bad):
    with pytest.raises(ValueError):
        names.test_path(bad)
