"""struct tcp_info as the kernel lays it out (include/uapi/linux/tcp.h), whatever its length."""

import struct

from harness.sockets.sockinfo import _tcp_info_layout


def test_fields_sit_at_the_kernels_offsets_with_its_alignment():
    raw = bytearray(232)
    struct.pack_into("=B", raw, 0, 1)            # tcpi_state
    struct.pack_into("=I", raw, 68, 1234)        # tcpi_rtt
    struct.pack_into("=Q", raw, 104, 10 ** 10)   # tcpi_pacing_rate: 8-aligned after total_retrans
    struct.pack_into("=Q", raw, 120, 4097)       # tcpi_bytes_acked
    names, layout = _tcp_info_layout(len(raw))
    info = dict(zip(names, layout.unpack_from(bytes(raw))))
    assert (info["state"], info["rtt"], info["pacing_rate"], info["bytes_acked"]) == (1, 1234, 10 ** 10, 4097)


def test_an_older_kernels_shorter_struct_gives_the_fields_it_has():
    names, _ = _tcp_info_layout(104)  # 4.x: up to tcpi_total_retrans
    assert names[-1] == "total_retrans" and "pacing_rate" not in names
