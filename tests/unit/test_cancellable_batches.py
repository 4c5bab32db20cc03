import pytest

from scimult_desktop.domain.progress import CancelToken, cancellable_batches
from scimult_desktop.errors import Cancelled


def test_slices_cover_every_item_in_order():
    assert [list(chunk) for chunk in cancellable_batches(list(range(7)), 3, None)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(cancellable_batches([], 3, CancelToken())) == []


def test_cancel_stops_between_slices_not_inside_one():
    cancel = CancelToken()
    done = []
    with pytest.raises(Cancelled):
        for chunk in cancellable_batches(list(range(10)), 4, cancel):
            done.extend(chunk)
            cancel.cancel()
    assert done == [0, 1, 2, 3]
