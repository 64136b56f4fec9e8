"""The link layout is set with as few netlink round trips as its answers allow."""

from netns.defaults import LAYOUT_GSO_MAX_SEGS
from netns.layout import LinkLayout


class Link:
    def __init__(self, segs: int) -> None:
        self.segs = segs

    def get_attr(self, name: str) -> int:
        assert name == "IFLA_GSO_MAX_SEGS"
        return self.segs


class Ipr:
    """A link whose gso_max_segs a set changes, unless the kernel ignores it."""

    def __init__(self, segs: int, ignores_set: bool = False) -> None:
        self.segs, self.ignores_set = segs, ignores_set
        self.calls: list[str] = []

    def get_links(self, index: int) -> list[Link]:
        self.calls.append("get")
        return [Link(self.segs)]

    def link(self, op: str, index: int, gso_max_segs: int) -> None:
        self.calls.append("set")
        if not self.ignores_set:
            self.segs = gso_max_segs


class Ns:
    def __init__(self, ipr: Ipr) -> None:
        self.ipr = ipr


def test_the_layout_the_link_has_costs_no_round_trip():
    ipr = Ipr(LAYOUT_GSO_MAX_SEGS["natural"])
    layout = LinkLayout(Ns(ipr), 3)
    assert layout.set("pinned") == LAYOUT_GSO_MAX_SEGS["pinned"]
    assert ipr.calls == ["get", "set", "get"]
    assert layout.set("pinned") == LAYOUT_GSO_MAX_SEGS["pinned"]
    assert ipr.calls == ["get", "set", "get"]  # nothing asked again
    assert layout.set("natural") == LAYOUT_GSO_MAX_SEGS["natural"]
    assert ipr.calls == ["get", "set", "get", "set", "get"]  # a change is read back


def test_a_kernel_that_ignores_the_change_is_read_back_and_asked_again():
    natural = LAYOUT_GSO_MAX_SEGS["natural"]
    ipr = Ipr(natural, ignores_set=True)
    layout = LinkLayout(Ns(ipr), 3)
    assert layout.set("pinned") == natural  # what the case really runs with
    assert layout.set("pinned") == natural
    assert ipr.calls == ["get", "set", "get", "set", "get"]
