"""The course's checks, one module per lesson, each check a function registered by name.

A check cell calls one of them through ``sandbox.check("<module>.<function>", points=N)``.
"""
