"""Before the window opens: are the system libraries of Qt's X11 (xcb) platform plugin installed?

Without them Qt aborts the process (SIGABRT) with a message about xcb-cursor whatever is
missing. This module imports no Qt: it runs `ldd` on the xcb plugin shipped inside PySide6
(the dynamic loader lists every missing shared library, direct or indirect) and turns the
missing ones into the Debian/Ubuntu packages to install, so the user reads one line instead.
Run as `python -m scimult_desktop.gui.platform_check` it prints that line and exits 1
(`make run` uses it before its display probe, which hides Qt's output).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

# Shared libraries of the xcb plugin whose Debian package names do not follow the
# usual soname rule (see `debian_package`).
_PACKAGES = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libICE.so.6": "libice6",
    "libSM.so.6": "libsm6",
}
_MISSING = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)


def debian_package(soname: str) -> str:
    """The Debian package that ships `soname` (policy 8.1: name + version, '-' between two digits).

    `libxcb-icccm.so.4` -> `libxcb-icccm4`, `libxcb-render-util.so.0` -> `libxcb-render-util0`.
    """
    if soname in _PACKAGES:
        return _PACKAGES[soname]
    name, _, version = soname.partition(".so.")
    version = version.split(".")[0]
    separator = "-" if name[-1:].isdigit() else ""
    return f"{name}{separator}{version}".lower()


def xcb_plugin() -> Path | None:
    """PySide6's libqxcb.so, or None when PySide6 (or its xcb plugin) is not installed."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        plugin = Path(root) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def uses_xcb(environ: os._Environ | dict | None = None, platform: str | None = None) -> bool:
    """Whether Qt will pick its xcb plugin: Linux with an X display and no other platform asked for."""
    environ = os.environ if environ is None else environ
    if (platform or sys.platform) != "linux":
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen == "xcb"
    if environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland":
        return False  # Qt 6 prefers its wayland plugin in a Wayland session
    return bool(environ.get("DISPLAY"))


def missing_libraries(plugin: Path) -> list[str]:
    """Shared libraries `plugin` needs that the dynamic loader cannot find (empty when ldd is absent)."""
    try:
        result = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return []  # no ldd (not glibc): Qt's own message has to do
    return sorted(set(_MISSING.findall(result.stdout)))


def missing_platform_packages(environ: os._Environ | dict | None = None) -> list[str]:
    """Debian packages to install before Qt's xcb plugin can load here (empty: nothing missing or not xcb)."""
    if not uses_xcb(environ):
        return []
    plugin = xcb_plugin()
    if plugin is None:
        return []
    return sorted({debian_package(name) for name in missing_libraries(plugin)})


def problem_line(packages: list[str]) -> str:
    """The one line a user reads instead of Qt's abort."""
    return (f"The window cannot open: Qt's X11 platform plugin needs system libraries that are missing. "
            f"Install them with: sudo apt-get install {' '.join(packages)}")


def main() -> int:
    packages = missing_platform_packages()
    if packages:
        print(problem_line(packages), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
