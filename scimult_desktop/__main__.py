"""`python -m scimult_desktop` runs the CLI."""

from __future__ import annotations

from scimult_desktop.cli.main import main

if __name__ == "__main__":
    main()
