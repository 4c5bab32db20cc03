"""Where the app's shipped resources (label sets, demo library, trained default weights) may live.

A source checkout keeps them in `resources/` beside the `scimult_desktop` package; a wheel
installs them as data files under `<prefix>/share/scimult-desktop/resources`, where the prefix
is the one pip installed into: the running Python's (a venv), the platform's install scheme
(Debian's pip writes to /usr/local while sys.prefix is /usr) or the user scheme (`pip install
--user`: ~/.local). `$SCIMULT_RESOURCES` points at another folder (a packaged app, a test).

Example:
    >>> resource_folders()[:2]  # a source checkout at ~/scimult-desktop
    [PosixPath('/home/me/scimult-desktop/resources'), PosixPath('/home/me/scimult-desktop/scimult_desktop/resources')]
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

RESOURCES_ENV = "SCIMULT_RESOURCES"
SHARE_SUBDIR = Path("share") / "scimult-desktop" / "resources"
PACKAGE_DIR = Path(__file__).resolve().parent


def resource_folders() -> list[Path]:
    """Candidate `resources` folders in search order (existing or not, no duplicates)."""
    env = os.environ.get(RESOURCES_ENV)
    candidates = [Path(env).expanduser()] if env else []
    candidates += [PACKAGE_DIR.parent / "resources", PACKAGE_DIR / "resources"]
    candidates += [prefix / SHARE_SUBDIR for prefix in _data_prefixes()]
    unique: list[Path] = []
    for folder in candidates:
        if folder not in unique:
            unique.append(folder)
    return unique


def _data_prefixes() -> list[Path]:
    """Prefixes a wheel's data files may have been installed under."""
    prefixes = [Path(sys.prefix)]
    for scheme in (sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user")):
        try:
            prefixes.append(Path(sysconfig.get_path("data", scheme)))
        except KeyError:  # a distribution without that scheme
            continue
    return prefixes
