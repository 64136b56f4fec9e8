"""What reads and drives a socket under test: the kernel's accounting (``sockinfo``), epoll
in ET/LT mode, poll()/select() and io_uring poll requests behind one interface (``epoll``,
``waiters``, ``uring`` over the ring of ``uring_ring``, ``multiwatch``, ``exclusive``),
blocking writers observed from /proc (``writer``, ``sleeping``), the witness of write-space wakeups from user space (``witness``) and from the
kernel (``kwitness``: kprobe events through ``kprobes``, field offsets from the kernel's BTF
in ``btf``), and the skb head truesize measured on a repaired socket (``truesize``).
It may import ``model``, ``record`` and ``netns``; never the peers, the cases or above.
"""
