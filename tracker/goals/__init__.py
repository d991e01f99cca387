"""SMART goals: the goal model, evaluation, pacing, pipeline coverage, guardrails, lint and
suggestions (``docs/goals.md``).

Pure, like ``tracker.metrics``: a deals frame, the goal configuration and an evaluation
date (``as_of``) in, values out; no clock and no I/O, except in ``tracker.goals.load``
(quota files, the owner directory, check-ins). This module imports nothing so that the
settings can import ``tracker.goals.model`` cheaply.
"""
