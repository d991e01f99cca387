"""A loopback emulator of the Salesforce REST and HubSpot CRM APIs for tests, demos, benchmarks.

Start it with :meth:`Sandbox.start` (``control.py``); the data comes from ``generator.py``,
the truth a perfect sync must reach from ``truth.py``, faults on demand from ``faults.py``
(``--faults SPEC`` grammar there); ``server.py`` documents how CRM modules plug in.
"""

from __future__ import annotations

from sandbox.control import Sandbox
from sandbox.faults import Fault, FaultSpecError, parse_spec
from sandbox.truth import Truth

__all__ = ["Fault", "FaultSpecError", "Sandbox", "Truth", "parse_spec"]
