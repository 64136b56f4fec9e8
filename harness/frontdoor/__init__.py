"""The front door: ``epoll-semantics COMMAND`` (also ``python -m harness``).

``run`` the suite on this kernel, ``kernels`` the matrix under QEMU, ``compare`` reports
side by side, ``summary``/``table`` a report, ``explain KEY`` a case's timeline trimmed
around the step that matters, ``show KEY`` its facts and series.  One module per group of
commands: ``reports`` (those that read reports), ``running`` (those that run the suite), and
``commands`` (the table of subcommands and the dispatch).

May import the reporting and guests rooms (and record, model); it runs the suite as a
pytest subprocess, never by importing the plugin.
"""
