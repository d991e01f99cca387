"""tracker: a CRM-connected sales metrics tracker (the core package)."""

from __future__ import annotations

__version__ = "0.1.0"
