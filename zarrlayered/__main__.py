"""``python -m zarrlayered``: the command line."""

from __future__ import annotations

from zarrlayered.cli import main

raise SystemExit(main())
