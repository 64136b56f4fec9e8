"""The suite's semantic mutation check (``make mutants``, ``python -m harness.mutants``).

A named set of mutants of the model (``harness/model``) and of the observation layer (how
the cases read the socket and epoll: ``harness/sockets``, ``harness/cases``), each a small
change of meaning such as "an ET item loses its wakeup" or "the threshold test is ``>``".
Each is applied alone to a scratch copy of the repository, the scenarios that must notice
it run there, and it must make them fail: a mutant that survives is a rule the scenarios do
not pin down.  The check prints a table (mutant, what it changes, the test that killed it,
seconds) and exits non-zero if any mutant survives, does not apply, or breaks collection.

``catalogue`` holds the mutants, ``mutate`` the pure logic (applying one to a text, judging
a run, the table), ``run`` the scratch copy and the pytest runs.  The room imports nothing
else of the harness: it treats the repository as text and pytest as a command.
"""
