from __future__ import annotations

from paved_platform.cli import main

main()
