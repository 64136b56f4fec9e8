"""epoll event bits and their names, the way the timeline and the report print them."""

from __future__ import annotations

import select

IN = select.EPOLLIN
PRI = select.EPOLLPRI
OUT = select.EPOLLOUT
ERR = select.EPOLLERR
HUP = select.EPOLLHUP
RDNORM = select.EPOLLRDNORM
RDBAND = select.EPOLLRDBAND
WRNORM = select.EPOLLWRNORM
WRBAND = select.EPOLLWRBAND
RDHUP = select.EPOLLRDHUP
ET = select.EPOLLET
ONESHOT = select.EPOLLONESHOT
EXCLUSIVE = getattr(select, "EPOLLEXCLUSIVE", 1 << 28)

# The bits a report shows; RDNORM/WRNORM mirror IN/OUT on TCP and would only add noise.
NAMED = (("IN", IN), ("PRI", PRI), ("OUT", OUT), ("ERR", ERR), ("HUP", HUP), ("RDHUP", RDHUP))
# Wakeup keys the kernel passes to ep_poll_callback (include/net/sock.h, net/core/stream.c).
KEY_WRITE_SPACE = OUT | WRNORM | WRBAND
KEY_DATA_READY = IN | PRI | RDNORM | RDBAND
KEY_ANY = 0
# What the readiness scenarios register: every event a TCP socket can report (ERR and HUP
# are always added by epoll_ctl()).
READINESS = IN | PRI | OUT | RDHUP  # sock_def_wakeup() and friends wake without a key: every item matches


def name(mask: int) -> str:
    """'IN|OUT' for a mask, '-' for none."""
    return "|".join(n for n, bit in NAMED if mask & bit) or "-"


def visible(mask: int) -> int:
    """Only the bits a report names."""
    return mask & (IN | PRI | OUT | ERR | HUP | RDHUP)


def select_view(mask: int, events: int = IN | OUT | PRI) -> int:
    """What select() makes of a poll mask, as IN (readable), OUT (writable), PRI (except).

    fs/select.c: POLLIN_SET = EPOLLIN|EPOLLRDNORM|EPOLLRDBAND|EPOLLHUP|EPOLLERR,
    POLLOUT_SET = EPOLLOUT|EPOLLWRNORM|EPOLLWRBAND|EPOLLERR, POLLEX_SET = EPOLLPRI; only the
    sets the fd was put in (``events``) can report it.
    """
    out = 0
    if events & IN and mask & (IN | RDNORM | RDBAND | HUP | ERR):
        out |= IN
    if events & OUT and mask & (OUT | WRNORM | WRBAND | ERR):
        out |= OUT
    if events & PRI and mask & PRI:
        out |= PRI
    return out
