"""Network plumbing for the suite: namespaces, TUN and veth devices, sysctls, the sweep."""

from .cleanup import CleanupStack
from .defaults import DEFAULT_CC, LAYOUT_GSO_MAX_SEGS, TCP_SYSCTLS
from .layout import set_layout
from .names import PREFIX, new_name, sweep
from .namespace import Netns, enter, namespace
from .tun import TunLink, tun
from .veth import VethEnd, VethPair, veth

__all__ = [
    "CleanupStack", "DEFAULT_CC", "LAYOUT_GSO_MAX_SEGS", "TCP_SYSCTLS", "set_layout", "PREFIX",
    "new_name", "sweep", "Netns", "enter", "namespace", "TunLink", "tun", "VethEnd", "VethPair", "veth",
]
