"""epoll's own objects: EPOLLONESHOT, one socket in two instances, dup'ed and closed fds.

Kernel rules (fs/eventpoll.c): an item is keyed by (file, fd) and has its own ready-list
membership, so the same socket in two epoll instances, or under two descriptors in one,
is reported by each independently.  EPOLLONESHOT disarms the item after one report
(ep_send_events() clears its events) until EPOLL_CTL_MOD re-arms it.  Closing one descriptor
does not remove the item while another descriptor keeps the file open (eventpoll_release()
runs only when the file's last reference goes): events keep coming under the closed fd's
number, and EPOLL_CTL_DEL with it fails.

These are epoll objects: poll() and select() have no counterpart (the report says so for
each scenario); the scenarios run in ET and LT.
"""

import errno
import os

import pytest

from harness.cases.scenarios import run_accepted, table
from harness.cases.verdict import claim
from harness.model import masks as M
from harness.peers.tunpeer import PeerOptions

PEER = PeerOptions(mss=1000, window=65535, wscale=0)
NO_POLL = "n/a: poll()/select() keep no registration, so there is nothing to disarm, share or leave behind"


def oneshot(c, record):
    """EPOLLONESHOT: one report, then silence (LT too) even when data arrives, until MOD."""
    c.modify(M.READINESS | M.ONESHOT)
    first = c.wait("epoll_wait after MOD with ONESHOT")
    c.peer_data(b"a" * 100)
    silent = c.wait("epoll_wait after data, item disarmed")
    c.modify(M.READINESS | M.ONESHOT)
    rearmed = c.wait("epoll_wait after MOD re-arms")
    c.wait("epoll_wait again")
    claim(first == M.OUT and silent == 0 and rearmed == M.IN | M.OUT,
          "one report per arming, nothing while disarmed", c.timeline)


def two_instances(c, record):
    """The socket in a second epoll instance: each item is queued and reported on its own;
    consuming one report leaves the other instance's untouched."""
    other = c.watch_too("second instance", c.mode)
    a = c.wait_too(other, "epoll_wait on the second instance")
    c.peer_data(b"a" * 100)
    first = c.wait("epoll_wait on the first instance after data")
    c.wait("epoll_wait on the first instance again")
    second = c.wait_too(other, "epoll_wait on the second instance after data")
    record.fact("second_instance_masks", [M.name(m) for _, _, m in other.reports])
    claim(a == M.OUT and first == M.IN | M.OUT and second == M.IN | M.OUT,
          "both instances report the data, each once in ET", c.timeline)


def dup_same_instance(c, record):
    """A dup'ed descriptor registered in the same instance is a second item: data is
    reported twice, once per descriptor."""
    dup = c.sock.dup()
    other = c.watch_too("dup'ed fd, same instance", c.mode, ep=c.watch.ep, fd=dup.fileno())
    c.wait_shared(other, "epoll_wait, both fds registered")
    c.peer_data(b"a" * 100)
    orig, copy = c.wait_shared(other, "epoll_wait after data")
    c.wait_shared(other, "epoll_wait again")
    dup.close()
    claim(orig == M.IN | M.OUT and copy == M.IN | M.OUT, "both descriptors report the data", c.timeline)


def close_registered_fd(c, record):
    """Close the registered descriptor while a dup keeps the file open: the item stays,
    reports data under the closed fd's number, and EPOLL_CTL_DEL with that fd fails."""
    old_fd = c.sock.fileno()
    keep = c.sock.dup()
    c.timeline.begin(f"close fd {old_fd}, dup fd {keep.fileno()} keeps the file open")
    c.watch.fd = old_fd
    c.sock.detach()
    os.close(old_fd)
    c.sock = keep
    c.timeline.add("call", f"close({old_fd})")
    c.peer_data(b"a" * 100)
    got = c.wait("epoll_wait after data, registered fd closed")
    c.timeline.begin(f"epoll_ctl(DEL, {old_fd})")
    try:
        c.watch.ep.unregister(old_fd)
        deleted = "ok"
    except OSError as exc:
        deleted = errno.errorcode.get(exc.errno, str(exc.errno))
    c.timeline.add("call", f"epoll_ctl(DEL, {old_fd}) = {deleted}")
    record.fact("ctl_del_closed_fd", deleted)
    claim(got == M.IN | M.OUT, "the item outlives its descriptor and reports the data", c.timeline)
    claim(deleted == "EBADF", "EPOLL_CTL_DEL with the closed fd fails with EBADF", c.timeline)


SCENARIOS = table("epoll-objects", oneshot, two_instances, dup_same_instance, close_registered_fd,
                  names={"oneshot": "oneshot-rearm"})


@pytest.mark.parametrize("script", SCENARIOS)
def test_epoll_object(scripted, mode, family, record, script):
    """Accept, watch every event with epoll in ``mode``, take the first report, run the script."""
    run_accepted(scripted, record, script, family=family, waiter=mode, opts=PEER)
    record.fact("poll_select", NO_POLL)
