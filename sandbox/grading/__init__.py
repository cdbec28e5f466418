"""Grading: the checks behind check cells, the exercise builder, and the grader.

A check cell is a code cell tagged ``check``, with its points in its metadata, whose one line
calls :func:`sandbox.check`, naming a check function in ``sandbox.checks``::

    sandbox.check("welcome.greeter_answers", points=2)

``course build`` writes exercises from solutions, ``course check`` scores one notebook, and
``course grade`` grades a class's submissions.
"""
