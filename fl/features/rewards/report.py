"""`python -m fl rewards RUN` / `brownie run scripts/rewards.py`: a run's reward token balances,
read from the run's chain (RewardToken.sol; see IRewardToken for how each round's budget is split)."""
from __future__ import annotations

import json
from pathlib import Path

from fl.core.errors import UserError


def reward_report(run_path, network: str | None = None, print_line=print) -> dict[int, float]:
    """Print and return each client's balance (tokens) of the run's reward token."""
    from fl.chain.run_chain import run_task
    from fl.chain.rewards import SYMBOL, RewardChain, to_tokens
    from fl.features.base import check_hook

    run = Path(run_path)
    hooks = json.loads((run / "chain.json").read_text()).get("hooks", {}) if (run / "chain.json").is_file() else {}
    if "reward_token" not in hooks:
        raise UserError(f"run {run} has no reward token (set rewards.budget to a positive number of tokens per round)")
    with run_task(run, network, what="read the rewards of") as task:
        check_hook(task, "reward_token", hooks["reward_token"])
        token = RewardChain.attach(hooks["reward_token"])
        count = int(task.contract.clientCount())
        accounts = {cid: task.client_address(cid) for cid in range(1, count + 1)}
        balances = {cid: to_tokens(token.balance(account)) for cid, account in accounts.items()}
        budget, minted, rounds = to_tokens(token.budget()), to_tokens(token.total_supply()), task.current_round()
    print_line(f"rewards of {run}: {SYMBOL} at {hooks['reward_token']}, {budget:g} per round, "
               f"{minted:g} minted over {rounds} round(s)")
    print_line(f"{'client':>6}  {'account':<42}  {SYMBOL:>14}")
    for cid, amount in balances.items():
        print_line(f"{cid:>6}  {accounts[cid]:<42}  {amount:>14.6f}")
    return balances
