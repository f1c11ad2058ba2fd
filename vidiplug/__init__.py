"""vidiplug: face fingerprinting and recognition for VidiCore."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
