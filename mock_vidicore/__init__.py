"""mock_vidicore: a VidiCore (Vidispine) stand-in for tests and demos, with a callback executor.

An independent oracle: it imports nothing from vidiplug. Run `python -m mock_vidicore --help`.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
