"""``python -m vidiplug`` runs the command-line interface."""

from __future__ import annotations

import sys

from vidiplug.cli import main

sys.exit(main())
