"""contracts/libraries (Bits, Sort, ClientSet) through a harness, against Python's answers."""
import random

import pytest

from fl.chain.bitmap import from_words, to_words

ALL = 2**256 - 1
rng = random.Random(12)
WORDS = [1, 2, 3, 1 << 255, ALL, ALL - 1, ALL >> 1, 0x5555 << 100, (1 << 255) | 1] + [rng.getrandbits(256) for _ in range(12)]


@pytest.fixture
def harness(LibraryHarness, accounts):
    return LibraryHarness.deploy({"from": accounts[0]})


def ints(values):
    return [int(v) for v in values]


def test_popcount(harness):
    assert harness.popcount(0) == 0
    for x in WORDS:
        assert harness.popcount(x) == bin(x).count("1"), hex(x)


def test_lowest_and_highest_bit(harness):
    assert harness.lowestBit(0) == 256
    assert harness.highestBit(0) == 0
    for x in WORDS:
        assert harness.lowestBit(x) == (x & -x).bit_length() - 1, hex(x)
        assert harness.highestBit(x) == x.bit_length() - 1, hex(x)


def test_sorts_ascending(harness):
    for n in (0, 1, 2, 7, 16):
        values = [rng.randrange(5) for _ in range(n)]
        assert ints(harness.sort(values)) == sorted(values)
        wide = [rng.getrandbits(256) for _ in range(n)]
        assert ints(harness.sort(wide)) == sorted(wide)
        narrow = [rng.choice([0, 1, 2**32 - 1, rng.getrandbits(32)]) for _ in range(n)]
        assert ints(harness.sort32(narrow)) == sorted(narrow)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_by_key_breaks_ties_to_the_lower_value(harness, descending):
    for n in (0, 1, 2, 9, 16):
        values = rng.sample(range(1, 100), n)
        keys = [rng.randrange(4) for _ in range(n)]
        expected = sorted(zip(values, keys), key=lambda vk: (-vk[1] if descending else vk[1], vk[0]))
        got_values, got_keys = harness.sortByKey(values, keys, descending)
        assert list(zip(ints(got_values), ints(got_keys))) == expected


def test_client_set_count_and_ids(harness):
    for ids in ([], [1], [255], [256], [1, 2, 255, 256, 257, 700], list(range(1, 512)), rng.sample(range(1, 1000), 60)):
        words = to_words(ids)
        assert harness.count(words) == len(ids)
        assert ints(harness.toIds(words)) == sorted(ids) == from_words(words)
