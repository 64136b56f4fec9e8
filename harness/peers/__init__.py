"""The far side of the socket under test. The scripted peer: a TCP peer on a TUN device
(``tunpeer``) with its segment codec (``packet``). The real peer: two namespaces joined by
veth (``realnet``), the NFQUEUE gate that holds ACKs (``gate``), the capture that is the
ground truth (``capture``) and the attribution of an EPOLLOUT to a captured ACK
(``attribution``, pure logic).
It may import ``model``, ``record`` and ``netns``; never the socket drivers, the cases or above.
"""
