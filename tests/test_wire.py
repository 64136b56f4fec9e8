"""The real-peer wire itself: what the cases rely on before any epoll claim."""

import socket

from harness.plugin.pytest_plugin import require
from netns.qdisc import root_kind, root_qdisc


def test_root_qdisc_is_added_and_removed(real_net, pytestconfig):
    """The add/delete path netem uses, with a qdisc every kernel here has (pfifo)."""
    require(pytestconfig, "root")
    b = real_net.wire.b
    with root_qdisc(b.ns, b.ifname, "pfifo", limit=1000):
        assert root_kind(b.ns, b.ifname) == "pfifo"
    assert root_kind(b.ns, b.ifname) != "pfifo"


def test_sender_link_has_segmentation_offload_off(real_net):
    """One skb per TCP segment on the sender's link: what the capture counts, TCP counts."""
    from netns.offload import ETHTOOL_GGSO, ETHTOOL_GTSO, _ethtool_value

    a = real_net.wire.a
    assert real_net.sender.call(_ethtool_value, a.ifname, ETHTOOL_GTSO) == 0
    assert real_net.sender.call(_ethtool_value, a.ifname, ETHTOOL_GGSO) == 0


def test_both_families_reach_the_receiver(real_net):
    for af in (socket.AF_INET, socket.AF_INET6):
        local, remote = real_net.addresses(af)
        lst = real_net.receiver.socket(af)
        lst.bind((remote, 0))
        lst.listen(1)
        s = real_net.sender.socket(af)
        s.settimeout(2)
        s.connect((remote, lst.getsockname()[1]))
        s.close()
        lst.close()
