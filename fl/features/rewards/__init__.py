"""The reward token (contracts/RewardToken.sol): each round's budget paid to the contributors.

- `payout`: the token's split in Python;
- `feature`: the token as a feature of a run, and what `verify` checks of it;
- `report`: `python -m fl rewards RUN`.
"""
