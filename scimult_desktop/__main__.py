"""`python -m scimult_desktop` runs the CLI."""

from __future__ import annotations

import os
import sys

# `python -m` puts the current folder first on sys.path, so a click.py or numpy.py in
# whatever folder the user is in would be imported. The package itself is already
# loaded; its modules and every library come from the installation, never from here.
# (The `scimult` console script and a packaged app never have the current folder there.)
if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from scimult_desktop.cli.main import main  # noqa: E402 - after the sys.path fix on purpose

if __name__ == "__main__":
    main()
