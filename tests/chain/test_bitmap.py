"""Client-id sets as contract bitmaps."""
import pytest

from fl.chain.bitmap import from_words, to_words


def test_round_trip_across_word_boundaries():
    ids = [1, 2, 255, 256, 257, 700]
    words = to_words(ids)
    assert len(words) == 3
    assert words[0] == (1 << 1) | (1 << 2) | (1 << 255)
    assert from_words(words) == ids


def test_order_and_duplicates_do_not_matter():
    assert to_words([3, 1, 3]) == to_words([1, 3]) == [0b1010]


def test_id_zero_is_rejected():
    with pytest.raises(ValueError, match="start at 1"):
        to_words([0])
