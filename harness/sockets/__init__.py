"""What reads and drives a socket under test: the kernel's accounting (``sockinfo``), epoll
in ET/LT mode and poll()/select() behind one interface (``epoll``, ``waiters``,
``multiwatch``, ``exclusive``), blocking writers observed from /proc (``writer``,
``sleeping``) and the witness of write-space wakeups (``witness``).
It may import ``model``, ``record`` and ``netns``; never the peers, the cases or above.
"""
