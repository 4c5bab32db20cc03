"""PyInstaller entry point of the `scimult-desktop` GUI executable."""

from __future__ import annotations

import sys

from scimult_desktop.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
