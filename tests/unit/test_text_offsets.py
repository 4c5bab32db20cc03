"""Editor cursor offsets counted in characters, UTF-8 bytes or UTF-16 units, with non-ASCII text before them."""

from __future__ import annotations

import pytest

from scimult_desktop.services.writing.editor_server import EditorServer
from scimult_desktop.services.writing.text_offsets import code_point_offset
from scimult_desktop.services.library.facade import Library
from tests.bibgen import synthetic_bib
from tests.unit.test_editor_server import call

TEXT = "Café — naïve 🚀 x"


@pytest.mark.parametrize("unit", ["character", "utf-8", "utf-16"])
def test_each_characters_start_maps_back_to_it(unit):
    encoding = {"utf-8": "utf-8", "utf-16": "utf-16-le"}.get(unit)
    for index in range(len(TEXT) + 1):
        if encoding is None:
            counted = index
        else:
            counted = len(TEXT[:index].encode(encoding)) // (2 if unit == "utf-16" else 1)
        assert code_point_offset(TEXT, counted, unit) == index


def test_inside_a_character_is_its_start_and_past_the_end_is_none():
    rocket = TEXT.index("🚀")
    assert code_point_offset(TEXT, len(TEXT[:rocket].encode("utf-8")) + 2, "utf-8") == rocket
    assert code_point_offset(TEXT, len(TEXT[:rocket].encode("utf-16-le")) // 2 + 1, "utf-16") == rocket
    assert code_point_offset(TEXT, len(TEXT.encode("utf-8")) + 1, "utf-8") is None
    assert code_point_offset(TEXT, len(TEXT) + 1, "character") is None
    assert code_point_offset(TEXT, -1, "utf-16") is None
    with pytest.raises(ValueError):
        code_point_offset(TEXT, 0, "bytes")


@pytest.fixture
def server(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(synthetic_bib(3), encoding="utf-8")
    with Library.open(tmp_path / "lib") as library:
        library.import_paths([bib])
    with EditorServer(tmp_path / "lib") as running:
        yield running


@pytest.mark.parametrize(("extra", "message"), [
    ({"position_unit": "bytes"}, "\"position_unit\" must be one of: character, utf-8, utf-16"),
    ({"position_unit": "utf-8", "position": len(TEXT.encode("utf-8")) + 1}, "(counted in utf-8)"),
])
def test_the_endpoint_refuses_an_unknown_unit_or_a_position_past_the_text(server, extra, message):
    status, body = call(server, "POST", "/suggest", {"text": TEXT, **extra})
    assert status == 400 and message in body["error"], body
