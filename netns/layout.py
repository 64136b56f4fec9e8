"""The skb layout a TCP sender builds towards a link, pinned through the link's gso_max_segs.

sk_setup_caps() copies the device's ``gso_max_segs`` into ``sk_gso_max_segs`` when the
socket's route is set up (connect, or the child socket made by the listener), so setting it
on the link before a connection decides that connection's layout (see
``netns.defaults.LAYOUT_GSO_MAX_SEGS``).  Changing it on an existing link
(IFLA_GSO_MAX_SEGS in do_setlink()) needs a kernel that accepts it there; the value is read
back, so a case on a kernel that ignored it records the layout it really ran with.
"""

from __future__ import annotations

from .defaults import LAYOUT_GSO_MAX_SEGS
from .namespace import Netns


def gso_max_segs(ns: Netns, index: int) -> int:
    link = ns.ipr.get_links(index)[0]
    return int(link.get_attr("IFLA_GSO_MAX_SEGS"))


def set_layout(ns: Netns, index: int, layout: str, current: int | None = None) -> int:
    """Ask for ``layout`` ("pinned" or "natural") on the link; return its gso_max_segs after.

    A kernel that does not change gso_max_segs on an existing link (do_setlink() without
    IFLA_GSO_MAX_SEGS: it may accept the attribute and ignore it) keeps its own value; the
    caller compares the result with LAYOUT_GSO_MAX_SEGS and records what the case ran with.
    ``current`` is the value this link was last read back with, when the caller knows it.
    """
    want = LAYOUT_GSO_MAX_SEGS[layout]
    if (gso_max_segs(ns, index) if current is None else current) != want:
        try:
            ns.ipr.link("set", index=index, gso_max_segs=want)
        except Exception:  # pyroute2's NetlinkError: an old kernel refusing the attribute
            pass
    return gso_max_segs(ns, index)


class LinkLayout:
    """The layout of one link of the suite's own, remembering the gso_max_segs last read back.

    Nothing but this object changes that link's gso_max_segs, so a case that asks for the
    layout the link already has needs no netlink round trip (two per case otherwise, each a
    dump of the link's every attribute: most of a scripted case's set-up under TCG).
    """

    def __init__(self, ns: Netns, index: int) -> None:
        self.ns, self.index = ns, index
        self.segs: int | None = None

    def set(self, layout: str) -> int:
        if self.segs != LAYOUT_GSO_MAX_SEGS[layout]:
            self.segs = set_layout(self.ns, self.index, layout, self.segs)
        return self.segs
