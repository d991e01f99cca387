"""Presentation: metric tables and files today; goal reports, mail and the review pack next.

Everything here turns computed values into something a person or program reads (Rich
tables, CSV, JSON); nothing here computes a figure or reads the store.
"""
