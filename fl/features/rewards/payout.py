"""RewardToken.sol's split of each round's budget, in Python: the reference the contract tests
compare the token with, and what `verify` recomputes the balances with. Integer arithmetic, as on chain."""
from __future__ import annotations

from collections.abc import Sequence


def split_in_proportion(amount: int, contributions: Sequence[int]) -> list[int]:
    """RewardToken's split of `amount` by `contributions` (ascending id): each share rounded down,
    the remainder to the top contributor (ties: the lowest id)."""
    total = sum(contributions)
    shares = [amount * c // total for c in contributions]
    top = max(range(len(contributions)), key=lambda i: (contributions[i], -i))
    shares[top] += amount - sum(shares)
    return shares


def split_equally(amount: int, ids: Sequence[int]) -> dict[int, int]:
    """RewardToken's committee part: equal shares rounded down, the remainder to the lowest id."""
    part = amount // len(ids)
    return {i: part + (amount - part * len(ids) if i == min(ids) else 0) for i in ids}
