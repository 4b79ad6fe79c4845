"""A faithful local emulator of the DigitalOcean API v2 backups endpoints, for tests and demos.

Public surface: `Sandbox` (seeded account served on 127.0.0.1) and `Faults` (fault injection).
The sandbox is an independent model of the API: it never reads `provider_spec/` and imports
nothing else from sqlprovider, so a mapping mistake in the engine cannot be mirrored here.
"""

from __future__ import annotations

from .faults import KINDS as FAULT_KINDS
from .faults import Faults
from .harness import Sandbox, SandboxAccount
from .service import RequestRecord

__all__ = ["FAULT_KINDS", "Faults", "RequestRecord", "Sandbox", "SandboxAccount"]
