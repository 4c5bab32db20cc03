"""The one place the SciMult Desktop version is written.

Read statically by setuptools (`pyproject.toml`, dynamic version) for the app wheel;
`training/scimult_train/_version.py` is a symlink to this file, so scimult-train
carries the same version; the PyInstaller build and the model wheel read it too.
Bump it here and add a CHANGELOG.md section in the same commit.
"""

__version__ = "0.1.0"
