"""Rows and columns of push buttons wired to their slots."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QPushButton, QVBoxLayout


def button_box(buttons: list[tuple[str, Callable]], *, vertical: bool = False) -> QBoxLayout:
    """A layout with one button per (text, slot), then a stretch."""
    layout = QVBoxLayout() if vertical else QHBoxLayout()
    for text, slot in buttons:
        button = QPushButton(text)
        button.clicked.connect(slot)
        layout.addWidget(button)
    layout.addStretch()
    return layout
