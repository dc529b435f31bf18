"""The rules of Committee.sol, in Python: the reference the contract tests
compare the contracts with on random inputs, and what `verify` recomputes from the chain's
records. Integer arithmetic throughout, exactly as on chain."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fl.core.config import COMMITTEE_STRATEGIES as STRATEGIES  # ICommittee.Strategy, by value

BPS = 10_000  # basis points in a whole, as the contracts count fractions


def bps(fraction: float) -> int:
    """`fraction` in basis points, as the contracts take it (a config's 0.5 -> 5000)."""
    return int(round(fraction * BPS))


def bps(fraction: float) -> int:
    """A fraction in basis points, as the contracts take it."""
    return int(round(fraction * BPS))


def median(values: Sequence[int]) -> int:
    """The median; of an even count, the floor of the mean of the middle two."""
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) // 2


@dataclass
class Tally:
    medians: list[int]  # medians[k] of the k-th committed client (ascending id); 0: not eligible
    selected: list[int]  # ascending ids
    elected: list[int]  # the next committee, ascending ids


def tally(scores: Mapping[int, Sequence[int]], members: Iterable[int], committed: Iterable[int],
          strategy: str, select_bps: int, size: int) -> Tally:
    """Tally one round: `scores[member][k]` from the members who scored, for the k-th client of
    the round's `committed` set in ascending id (each row as long as that set); the round's
    committee `members`."""
    members, committed = set(members), sorted(set(committed))
    medians = [0] * len(committed)
    by_id = {}
    eligible = []
    for k, client in enumerate(committed):
        if client in members:
            continue
        value = median([row[k] for row in scores.values()])
        medians[k] = by_id[client] = value
        if value > 0:
            eligible.append(client)
    by_highest = sorted(eligible, key=lambda c: (-by_id[c], c))
    order = by_highest if strategy == "robust" else sorted(eligible, key=lambda c: (by_id[c], c))
    count = max(1, len(eligible) * select_bps // BPS) if eligible else 0
    elected = (by_highest + sorted(members))[:size]
    return Tally(medians, sorted(order[:count]), sorted(elected))

