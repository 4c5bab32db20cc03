"""PyInstaller entry point of the `scimult` command-line executable."""

from __future__ import annotations

import sys

from scimult_desktop.cli.main import main

if __name__ == "__main__":
    main(sys.argv[1:])
