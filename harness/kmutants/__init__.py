"""Kernel mutants (``make kernel-mutants``, ``python -m harness.kmutants``): the suite must
fail a kernel that is wrong.

Model and observation mutants (``harness.mutants``) cannot show that an acceptance is too
loose: a looser check still passes a correct kernel.  Only a wrong kernel can.  Each mutant
here is a livepatch module built against Debian's ``linux-headers`` for a kernel of the
matrix (``module/eps_kmutant.c``: copies of ``sk_stream_write_space()``,
``tcp_check_space()`` and ``tcp_poll()`` from that kernel's source, one rule changed by a
macro), loaded inside the guest before the suite (``harness.guests.stage2.render_load``).
The unmodified copy, built the same way (``identity``), must pass; every mutant must fail,
and its first divergence must name the rule it breaks.

``catalogue`` holds the mutants and the cases that must catch each; ``build`` fetches the
headers through a private apt configuration and builds a module into the cache (also from a
patch or a module given by path); ``judge`` reads a guest's report into a verdict; ``run``
is the command line and the table.  The room imports ``guests`` (fetch and boot),
``model`` and ``record``; nothing that runs a case.
"""
