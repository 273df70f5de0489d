"""Bounded, self-stopping reliability scripts (bad-file fuzz, SIGKILL trials, soak) and their helpers.

Each script stops on its own (a trial count or a time limit) and writes a JSON summary that
``docs/RELIABILITY.md`` quotes. The fast versions of the same checks run in CI from
``tests/test_reliability.py`` and ``tests/test_hostile.py``.
"""
