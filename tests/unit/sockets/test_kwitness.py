"""The kernel witness's trace parsing and call paths, on trace_pipe text as 5.10 and 6.1 print it."""

import pytest

from harness.sockets.btf import Btf, BtfError
from harness.sockets.kwitness import CallParser, definitions, site

WS = ("          python-119     [000] ..s2.    12.742023: ws: (sk_stream_write_space+0x0/0xf0) "
      "q={q} b=42000 sport=46660 dport=58802 wseq=1000 nxt={nxt} lowat=0 flags={flags}")
STACK_ACK = """          python-119     [000] ..s2.    12.742182: <stack trace>
 => kprobe_trace_func
 => kprobe_dispatcher
 => sk_stream_write_space
 => tcp_check_space
 => tcp_write_xmit
 => __tcp_push_pending_frames
 => tcp_rcv_established
 => tcp_v4_do_rcv"""
WK = "          python-119     [000] ..s2.    12.742190: wk: (woken_wake_function+0x0/0x30) pid=321"
EP = "          python-119     [000] ..s2.    12.742195: ep: (ep_poll_callback+0x0/0x2a0) key=0x304"
PORTS = (46660, 0xB2E5)  # dport is __be16: 58802 read little-endian is port 0xE5B2 swapped


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_a_call_inside_an_ack_with_its_wakeups():
    p = CallParser(*PORTS)
    calls = p.feed(lines("\n".join([WS.format(q=27560, nxt=900, flags=4), STACK_ACK, WK, EP])))
    assert len(calls) == 1
    c = calls[0]
    assert (c.wmem_queued, c.sndbuf, c.notsent, c.nospace) == (27560, 42000, 100, True)
    assert c.site == "transmit inside the ACK (tcp_write_xmit)"
    assert c.held() and c.woke and c.woken_tids == (321,) and c.epoll_items == 1


def test_stack_before_its_event_and_calls_on_other_sockets_are_dropped():
    other = WS.format(q=1, nxt=1000, flags=4).replace("sport=46660", "sport=1234")
    p = CallParser(*PORTS)
    calls = p.feed(lines("\n".join([STACK_ACK.replace("tcp_write_xmit\n", ""), WS.format(q=30000, nxt=1000, flags=0),
                                    other, WK])))
    assert len(calls) == 1 and calls[0].site == "after the ACK's push (tcp_data_snd_check)"
    assert not calls[0].nospace and not calls[0].woke


def test_a_call_split_across_two_reads():
    p = CallParser(*PORTS)
    assert p.feed([WS.format(q=27560, nxt=900, flags=4)]) != []  # closed at the end of a read
    assert p.feed([WK]) == []


@pytest.mark.parametrize("frames, expected", [
    (["sk_stream_write_space", "sock_setsockopt", "__sys_setsockopt"], "setsockopt"),
    (["sk_stream_write_space", "tcp_check_space", "tcp_write_xmit", "tcp_tsq_handler"],
     "transmit from the pacing/TSQ handler"),
    (["sk_stream_write_space", "tcp_sendmsg_locked", "tcp_sendmsg"], "sendmsg"),
])
def test_call_sites(frames, expected):
    assert site(frames) == expected


def test_definitions_fetch_through_the_offsets():
    o = dict(queued=1, sndbuf=2, socket=3, num=4, dport=5, flags=6, write_seq=7, snd_nxt=8, lowat=9,
             private=10, pid=11)
    ws = dict((n, d) for n, d, _ in definitions(o))["ws"]
    assert ws.startswith("p sk_stream_write_space q=+1(%di):s32") and "flags=+6(+3(%di)):u64" in ws
    probes = dict((n, d) for n, d, _ in definitions(o))
    assert probes["wm"].startswith("p sk_stream_wait_memory q=+1(%di):s32")


WM = ("          python-184     [000] .....    30.001000: wm: (sk_stream_wait_memory+0x0/0x2c0) "
      "q={q} b=42000 sport=46660 dport=58802 wseq=5000 nxt=1000 lowat=0")
TW = """          python-119     [000] d.s3.    30.200000: tw: (try_to_wake_up+0x0/0x570) pid=184
          python-119     [000] d.s3.    30.200010: <stack trace>
 => kprobe_trace_func
 => try_to_wake_up
 => 0xffffffffc04670da
 => woken_wake_function
 => __wake_up_common
 => sock_def_readable
 => tcp_data_queue"""


def test_a_writers_sleeps_timeouts_and_wakeups():
    """sk_stream_wait_memory() entries on the socket (with or without memory free: vm_wait)
    and a followed thread's wakeups with the path that made them."""
    p = CallParser(*PORTS)
    calls = p.feed(lines("\n".join([WM.format(q=80152), WM.format(q=30000).replace("sport=46660", "sport=1"),
                                    WM.format(q=30000), TW])))
    assert calls == []
    assert [(s.tid, s.wmem_queued, s.notsent, s.vm_wait) for s in p.sleeps] == [(184, 80152, 4000, False),
                                                                               (184, 30000, 4000, True)]
    assert len(p.wakes) == 1 and p.wakes[0].tid == 184
    assert p.wakes[0].brief() == "tid 184 woken by woken_wake_function <- __wake_up_common <- sock_def_readable <- tcp_data_queue"


def test_btf_rejects_what_is_not_btf():
    with pytest.raises(BtfError):
        Btf(b"\0" * 64)


def test_offsets_from_the_running_kernels_btf():
    """Parsing the real BTF finds every field the probes fetch, inside struct sock."""
    try:
        b = Btf.load()
    except BtfError as exc:
        pytest.skip(str(exc))
    sock = b.field("sock", "sk_wmem_queued")
    assert sock.size == 4 and 0 < sock.offset < 4096
    assert b.field("sock", "__sk_common.skc_num").size == 2       # through an anonymous struct
    assert b.field("tcp_sock", "write_seq").offset > b.field("sock", "sk_sndbuf").offset  # tcp_sock embeds sock
    with pytest.raises(BtfError):
        b.field("sock", "no_such_field")


def _btf(types: list[tuple[str, int, int, list[tuple[str, int, int]]]]) -> bytes:
    """A BTF blob: (name, kind, size or type, members (name, type id, bit offset))."""
    import struct

    strings, offs = b"\0", {"": 0}

    def s(name: str) -> int:
        nonlocal strings
        if name not in offs:
            offs[name], strings = len(strings), strings + name.encode() + b"\0"
        return offs[name]

    body = b""
    for name, kind, size, members in types:
        body += struct.pack("<III", s(name), (kind << 24) | len(members), size)
        body += b"".join(struct.pack("<III", s(m), t, bits) for m, t, bits in members)
        if kind == 1:  # INT's own word
            body += struct.pack("<I", size * 8)
    return struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(body), len(body), len(strings)) + body + strings


def test_btf_decodes_only_what_a_lookup_reaches():
    from harness.sockets.btf import INT, STRUCT, TYPEDEF, UNION

    blob = _btf([
        ("int", INT, 4, []),                                          # 1
        ("", UNION, 8, [("a", 1, 0), ("b", 4, 0)]),                   # 2: anonymous
        ("sock", STRUCT, 24, [("x", 1, 0), ("", 2, 64)]),             # 3
        ("u16", TYPEDEF, 5, []),                                      # 4 -> 5
        ("short", INT, 2, []),                                        # 5
        ("sock", STRUCT, 99, [("y", 1, 0)]),                          # 6: a second, later one
    ])
    b = Btf(blob)
    assert b.field("sock", "b") == b.field("sock", "b")
    assert (b.field("sock", "b").offset, b.field("sock", "b").size) == (8, 2)  # through the union
    assert b.struct_id("sock") == 3            # the first of that name, as before
    assert b.struct_id("so") is None           # a prefix of a name is no name
    with pytest.raises(BtfError):
        b.field("sock", "y")                   # a member of the later struct only
    with pytest.raises(BtfError):
        b.field("int", "x")                    # not a struct
