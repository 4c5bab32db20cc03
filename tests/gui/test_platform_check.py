"""Missing system libraries of Qt's X11 plugin: one line naming the packages and a clean exit, not Qt's abort."""

from __future__ import annotations

import subprocess

import pytest
from click.testing import CliRunner

from scimult_desktop.gui import platform_check

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007fef)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007fef)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-icccm.so.4 => not found
"""


@pytest.mark.parametrize("soname, package", [
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libdbus-1.so.3", "libdbus-1-3"),
])
def test_sonames_map_to_debian_packages(soname, package):
    assert platform_check.debian_package(soname) == package


@pytest.mark.parametrize("environ, expected", [
    ({"DISPLAY": ":0"}, True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "wayland;xcb", "WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, False),
    ({}, False),
])
def test_xcb_is_checked_only_when_qt_will_use_it(environ, expected):
    assert platform_check.uses_xcb(environ, platform="linux") is expected


def test_missing_libraries_are_read_from_ldd(monkeypatch, tmp_path):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, LDD_OUTPUT, ""))
    assert platform_check.missing_libraries(tmp_path / "libqxcb.so") == [
        "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"]


def _simulate_missing(monkeypatch, tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(platform_check, "uses_xcb", lambda environ=None: True)
    monkeypatch.setattr(platform_check, "xcb_plugin", lambda: plugin)
    monkeypatch.setattr(platform_check, "missing_libraries", lambda _plugin: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])


def test_gui_main_names_the_packages_and_exits_before_creating_qt(monkeypatch, tmp_path, capsys):
    from scimult_desktop.gui import app

    _simulate_missing(monkeypatch, tmp_path)

    def no_qt(*_args, **_kwargs):
        raise AssertionError("QApplication must not be created: Qt would abort")

    monkeypatch.setattr(app, "create_application", no_qt)
    assert app.main(["--library", str(tmp_path / "lib")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [platform_check.problem_line(["libxcb-icccm4", "libxcb-keysyms1"])]
    assert "apt-get install libxcb-icccm4 libxcb-keysyms1" in lines[0]


def test_scimult_gui_exits_non_zero_with_the_line(monkeypatch, tmp_path):
    from scimult_desktop.cli.main import cli
    from scimult_desktop.gui import app

    _simulate_missing(monkeypatch, tmp_path)
    monkeypatch.setattr(app, "create_application", lambda *a, **k: pytest.fail("Qt started"))
    result = CliRunner().invoke(cli, ["--library", str(tmp_path / "lib"), "gui"])
    assert result.exit_code == 1
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in result.output


def test_module_entry_point_used_by_make_run(monkeypatch, tmp_path, capsys):
    _simulate_missing(monkeypatch, tmp_path)
    assert platform_check.main() == 1
    assert "libxcb-icccm4" in capsys.readouterr().err
    monkeypatch.setattr(platform_check, "missing_libraries", lambda _plugin: [])
    assert platform_check.main() == 0
