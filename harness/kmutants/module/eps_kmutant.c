// SPDX-License-Identifier: GPL-2.0
/*
 * eps_kmutant: a livepatch that replaces the three functions that decide TCP write
 * readiness with copies of Debian's linux-source-6.1 (6.1.192-3), so that one macro can
 * change one rule.  Without a macro the copies are the kernel's own code (the identity
 * build, which the suite must pass).
 *
 *   sk_stream_write_space()  net/core/stream.c     the write-space wakeup
 *   tcp_check_space()        net/ipv4/tcp_input.c  its gate on SOCK_NOSPACE, after an ACK
 *                                                  and after every skb sent (4bfe744ff164)
 *   tcp_poll()               net/ipv4/tcp.c        the readiness mask, the race breaker
 *
 * Static helpers the copies call (prefixed eps_: tcp_new_space, tcp_should_expand_sndbuf,
 * tcp_sndbuf_expand, tcp_chrono_set/stop, tcp_stream_is_readable) are copied too, so the
 * module needs no symbol the kernel does not export.  The replaced sk_stream_write_space
 * is reached through sk->sk_write_space, which livepatch redirects like a direct call.
 *
 * Mutants (one at a time):
 *   EPS_WAKE_EARLY      the wakeup's test free >= queued/2 relaxed by EPS_SLACK bytes
 *                       (default: one skb head's truesize on 6.1, 1280)
 *   EPS_WAKE_LATE       the same test tightened by EPS_SLACK bytes (default 384)
 *   EPS_WAKE_IGNORES_NOSPACE  tcp_check_space() calls tcp_new_space() on every ACK and
 *                       every skb sent, whether or not SOCK_NOSPACE is set
 *   EPS_POLL_NO_NOSPACE tcp_poll() never sets SOCK_NOSPACE on an unwritable socket
 *   EPS_POLL_NO_RDHUP   tcp_poll() omits EPOLLRDHUP after the peer's FIN
 *   EPS_REVERT_4BFE744FF164  tcp_check_space() does nothing when called from the transmit
 *                       path (tcp_event_new_data_sent(), net/ipv4/tcp_output.c): the 5.18 change
 *                       "tcp: fix potential xmit stalls caused by TCP_NOTSENT_LOWAT" undone
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kallsyms.h>
#include <linux/livepatch.h>
#include <linux/poll.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/inet_connection_sock.h>

#ifndef EPS_MUTANT
#define EPS_MUTANT "identity"
#endif

#if defined(EPS_WAKE_EARLY)
#ifndef EPS_SLACK
#define EPS_SLACK 1280
#endif
#define EPS_WAKE_SLACK (EPS_SLACK)
#elif defined(EPS_WAKE_LATE)
#ifndef EPS_SLACK
#define EPS_SLACK 384
#endif
#define EPS_WAKE_SLACK (-(EPS_SLACK))
#endif

/* The write-space wakeup's test: __sk_stream_is_writeable(sk, 1), with the mutant's slack. */
static bool eps_wake_writeable(const struct sock *sk)
{
#ifdef EPS_WAKE_SLACK
	return sk_stream_wspace(sk) + (EPS_WAKE_SLACK) >= sk_stream_min_wspace(sk) &&
	       __sk_stream_memory_free(sk, 1);
#else
	return __sk_stream_is_writeable(sk, 1);
#endif
}

/* net/core/stream.c */
static void eps_sk_stream_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_wq *wq;

	if (eps_wake_writeable(sk) && sock) {
		clear_bit(SOCK_NOSPACE, &sock->flags);

		rcu_read_lock();
		wq = rcu_dereference(sk->sk_wq);
		if (skwq_has_sleeper(wq))
			wake_up_interruptible_poll(&wq->wait, EPOLLOUT |
						EPOLLWRNORM | EPOLLWRBAND);
		if (wq && wq->fasync_list && !(sk->sk_shutdown & SEND_SHUTDOWN))
			sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
		rcu_read_unlock();
	}
}

/* net/ipv4/tcp_input.c */
static void eps_tcp_sndbuf_expand(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	const struct tcp_congestion_ops *ca_ops = inet_csk(sk)->icsk_ca_ops;
	int sndmem, per_mss;
	u32 nr_segs;

	per_mss = max_t(u32, tp->rx_opt.mss_clamp, tp->mss_cache) +
		  MAX_TCP_HEADER +
		  SKB_DATA_ALIGN(sizeof(struct skb_shared_info));

	per_mss = roundup_pow_of_two(per_mss) +
		  SKB_DATA_ALIGN(sizeof(struct sk_buff));

	nr_segs = max_t(u32, TCP_INIT_CWND, tcp_snd_cwnd(tp));
	nr_segs = max_t(u32, nr_segs, tp->reordering + 1);

	sndmem = ca_ops->sndbuf_expand ? ca_ops->sndbuf_expand(sk) : 2;
	sndmem *= nr_segs * per_mss;

	if (sk->sk_sndbuf < sndmem)
		WRITE_ONCE(sk->sk_sndbuf,
			   min(sndmem, READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_wmem[2])));
}

/* net/ipv4/tcp_input.c */
static bool eps_tcp_should_expand_sndbuf(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		return false;

	if (tcp_under_memory_pressure(sk)) {
		int unused_mem = sk_unused_reserved_mem(sk);

		if (unused_mem > SOCK_MIN_SNDBUF)
			WRITE_ONCE(sk->sk_sndbuf, unused_mem);

		return false;
	}

	if (sk_memory_allocated(sk) >= sk_prot_mem_limits(sk, 0))
		return false;

	if (tcp_packets_in_flight(tp) >= tcp_snd_cwnd(tp))
		return false;

	return true;
}

/* net/ipv4/tcp_input.c; sk_write_space is called through its pointer, which reaches the
 * replaced sk_stream_write_space (the kernel's INDIRECT_CALL_1 only skips the retpoline). */
static void eps_tcp_new_space(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (eps_tcp_should_expand_sndbuf(sk)) {
		eps_tcp_sndbuf_expand(sk);
		tp->snd_cwnd_stamp = tcp_jiffies32;
	}

	READ_ONCE(sk->sk_write_space)(sk);
}

/* net/ipv4/tcp_output.c */
static void eps_tcp_chrono_set(struct tcp_sock *tp, const enum tcp_chrono new)
{
	const u32 now = tcp_jiffies32;
	enum tcp_chrono old = tp->chrono_type;

	if (old > TCP_CHRONO_UNSPEC)
		tp->chrono_stat[old - 1] += now - tp->chrono_start;
	tp->chrono_start = now;
	tp->chrono_type = new;
}

/* net/ipv4/tcp_output.c */
static void eps_tcp_chrono_stop(struct sock *sk, const enum tcp_chrono type)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tcp_rtx_and_write_queues_empty(sk))
		eps_tcp_chrono_set(tp, TCP_CHRONO_UNSPEC);
	else if (type == tp->chrono_type)
		eps_tcp_chrono_set(tp, TCP_CHRONO_BUSY);
}

#ifdef EPS_REVERT_4BFE744FF164
/* Whether tcp_check_space() was reached from tcp_event_new_data_sent(), the call
 * 4bfe744ff164 added.  Livepatch enters the replacement from the original's ftrace site, so
 * the return address is still the caller's; but tcp_check_space() is that function's last
 * statement, a tail call (Debian's 6.1: "jmp tcp_check_space"), so the return address lies
 * in its callers, all in net/ipv4/tcp_output.c: tcp_write_xmit(), tcp_mtu_probe(),
 * tcp_write_wakeup().  The ACK's own call comes from tcp_input.c (tcp_rcv_established(),
 * tcp_rcv_state_process()) and stays. */
static const char *const eps_xmit_callers[] = {
	"tcp_event_new_data_sent", "tcp_write_xmit", "tcp_mtu_probe", "tcp_write_wakeup",
};

static bool eps_called_per_skb(unsigned long ret)
{
	char name[KSYM_SYMBOL_LEN];
	int i;

	sprint_symbol_no_offset(name, ret);
	for (i = 0; i < ARRAY_SIZE(eps_xmit_callers); i++)
		if (!strcmp(name, eps_xmit_callers[i]))
			return true;
	return false;
}
#endif

/* net/ipv4/tcp_input.c */
static void eps_tcp_check_space(struct sock *sk)
{
#ifdef EPS_REVERT_4BFE744FF164
	if (eps_called_per_skb((unsigned long)__builtin_return_address(0)))
		return;
#endif
	/* pairs with tcp_poll() */
	smp_mb();
#ifdef EPS_WAKE_IGNORES_NOSPACE
	if (sk->sk_socket) {
#else
	if (sk->sk_socket &&
	    test_bit(SOCK_NOSPACE, &sk->sk_socket->flags)) {
#endif
		eps_tcp_new_space(sk);
		if (!test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
			eps_tcp_chrono_stop(sk, TCP_CHRONO_SNDBUF_LIMITED);
	}
}

/* net/ipv4/tcp.c */
static bool eps_tcp_stream_is_readable(struct sock *sk, int target)
{
	if (tcp_epollin_ready(sk, target))
		return true;
	return sk_is_readable(sk);
}

/* net/ipv4/tcp.c (comments shortened) */
static __poll_t eps_tcp_poll(struct file *file, struct socket *sock, poll_table *wait)
{
	__poll_t mask;
	struct sock *sk = sock->sk;
	const struct tcp_sock *tp = tcp_sk(sk);
	u8 shutdown;
	int state;

	sock_poll_wait(file, sock, wait);

	state = inet_sk_state_load(sk);
	if (state == TCP_LISTEN)
		return inet_csk_listen_poll(sk);

	mask = 0;

	shutdown = READ_ONCE(sk->sk_shutdown);
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
#ifdef EPS_POLL_NO_RDHUP
		mask |= EPOLLIN | EPOLLRDNORM;
#else
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
#endif

	/* Connected or passive Fast Open socket? */
	if (state != TCP_SYN_SENT &&
	    (state != TCP_SYN_RECV || rcu_access_pointer(tp->fastopen_rsk))) {
		int target = sock_rcvlowat(sk, 0, INT_MAX);
		u16 urg_data = READ_ONCE(tp->urg_data);

		if (unlikely(urg_data) &&
		    READ_ONCE(tp->urg_seq) == READ_ONCE(tp->copied_seq) &&
		    !sock_flag(sk, SOCK_URGINLINE))
			target++;

		if (eps_tcp_stream_is_readable(sk, target))
			mask |= EPOLLIN | EPOLLRDNORM;

		if (!(shutdown & SEND_SHUTDOWN)) {
			if (__sk_stream_is_writeable(sk, 1)) {
				mask |= EPOLLOUT | EPOLLWRNORM;
			} else {  /* send SIGIO later */
				sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
#ifndef EPS_POLL_NO_NOSPACE
				set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
#endif

				/* Race breaker: pairs with the input side. */
				smp_mb__after_atomic();
				if (__sk_stream_is_writeable(sk, 1))
					mask |= EPOLLOUT | EPOLLWRNORM;
			}
		} else
			mask |= EPOLLOUT | EPOLLWRNORM;

		if (urg_data & TCP_URG_VALID)
			mask |= EPOLLPRI;
	} else if (state == TCP_SYN_SENT && inet_sk(sk)->defer_connect) {
		mask |= EPOLLOUT | EPOLLWRNORM;
	}
	/* This barrier is coupled with smp_wmb() in tcp_done_with_error() */
	smp_rmb();
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;

	return mask;
}

static struct klp_func funcs[] = {
	{ .old_name = "sk_stream_write_space", .new_func = eps_sk_stream_write_space, },
	{ .old_name = "tcp_check_space", .new_func = eps_tcp_check_space, },
	{ .old_name = "tcp_poll", .new_func = eps_tcp_poll, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },	/* name NULL: vmlinux */
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init eps_kmutant_init(void)
{
	pr_info("eps_kmutant: mutant %s\n", EPS_MUTANT);
	return klp_enable_patch(&patch);
}

static void __exit eps_kmutant_exit(void)
{
}

module_init(eps_kmutant_init);
module_exit(eps_kmutant_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("epoll-semantics kernel mutant: " EPS_MUTANT);
MODULE_INFO(livepatch, "Y");
