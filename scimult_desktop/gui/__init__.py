"""The desktop GUI (PySide6): the only package that imports Qt.

Start it with `scimult gui` or `scimult-desktop`; see `gui/app.py`. Widgets call
the service layer only, through `gui/operations.py` for anything slow.
"""
