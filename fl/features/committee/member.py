"""A committee member that runs elsewhere (a Flower party): it scores the round's candidates
itself, against its own update, and signs its own `submitScores` transaction with its own key;
the aggregator only broadcasts it (fl.chain.committee.CommitteeChain.submit_signed)."""
from __future__ import annotations

from fl.chain.committee import scores_call
from fl.features.committee.scoring import score
from fl.ml.algorithms.api import State


def score_row(committed: list[int], candidates: dict[int, State], own: State, global_state: State) -> list[int]:
    """One score per committed client, ascending id, as the contract takes them: the member's
    score of each candidate, 0 for a client that is not one (a member)."""
    return [score(own, candidates[c], global_state) if c in candidates else 0 for c in committed]


def scores_transaction(key: str, round_: int, committed: list[int], candidates: dict[int, State], own: State,
                       global_state: State, transaction: dict) -> bytes:
    """The member's signed `submitScores` transaction: `transaction` (to, nonce, gas, chain id)
    with the data of its own scores."""
    from fl.chain.transactions import sign_fields

    return sign_fields(transaction, scores_call(round_, score_row(committed, candidates, own, global_state)), key)
