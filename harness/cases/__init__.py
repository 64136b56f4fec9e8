"""A case and its verdict: one socket under test with its peer, watch and model, advanced one
step at a time (``case`` for the scripted peer, ``realcase`` for the real one with its
blocking writer's steps in ``realblocking``, the write-space tests inside each ACK as a
kernel witness saw them or as the accounting bounds them in ``inside_ack``, the
connections they are made from in ``scripted``/``realpeer``, shared steps in ``steps`` and
``sending``), the claims a scenario makes (``claims``), the verdict that explains itself
(``verdict``) and the scenario tables (``scenarios``). A new scenario is a test in
``tests/`` and, at most, a step or claim here.
It may import ``model``, ``record``, ``sockets``, ``peers`` and ``netns``; never the plugin,
the reports or the guests.
"""
