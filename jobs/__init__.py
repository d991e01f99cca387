"""Scheduled and scripted work that wires the library together (sync, demo, ...)."""
