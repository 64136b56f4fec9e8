"""The skb layout a TCP sender builds towards a link, pinned through the link's gso_max_segs.

sk_setup_caps() copies the device's ``gso_max_segs`` into ``sk_gso_max_segs`` when the
socket's route is set up (connect, or the child socket made by the listener), so setting it
on the link before a connection decides that connection's layout (see
``netns.defaults.LAYOUT_GSO_MAX_SEGS``).  Changing it on an existing link
(IFLA_GSO_MAX_SEGS in do_setlink()) needs a kernel that accepts it there; the value is read
back, and a kernel that ignored it raises rather than leaving the layout unpinned.
"""

from __future__ import annotations

from .defaults import LAYOUT_GSO_MAX_SEGS
from .namespace import Netns


def gso_max_segs(ns: Netns, index: int) -> int:
    link = ns.ipr.get_links(index)[0]
    return int(link.get_attr("IFLA_GSO_MAX_SEGS"))


def set_layout(ns: Netns, index: int, layout: str) -> int:
    """Set the link's gso_max_segs for ``layout`` ("pinned" or "natural"); return it."""
    want = LAYOUT_GSO_MAX_SEGS[layout]
    if gso_max_segs(ns, index) != want:
        ns.ipr.link("set", index=index, gso_max_segs=want)
        got = gso_max_segs(ns, index)
        if got != want:
            raise OSError(f"link {index}: gso_max_segs is {got} after setting {want} "
                          "(this kernel cannot change it on an existing device)")
    return want
