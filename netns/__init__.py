"""Network plumbing for the suite: namespaces, TUN and veth devices, sysctls and route
timers (``timers``), the sweep, children that die with their parent."""

from .cleanup import CleanupStack, die_with_parent
from .defaults import DEFAULT_CC, LAYOUT_GSO_MAX_SEGS, TCP_SYSCTLS
from .layout import LinkLayout, set_layout
from .names import PREFIX, Swept, new_name, sweep
from .namespace import Netns, enter, namespace
from .tun import TunLink, tun
from .veth import VethEnd, VethPair, veth

__all__ = [
    "CleanupStack", "die_with_parent", "DEFAULT_CC", "LAYOUT_GSO_MAX_SEGS", "LinkLayout", "TCP_SYSCTLS", "set_layout", "PREFIX",
    "Swept", "new_name", "sweep", "Netns", "enter", "namespace", "TunLink", "tun", "VethEnd", "VethPair", "veth",
]
