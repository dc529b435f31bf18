"""The on-chain algorithms of an experiment beside its FLTask: the committee (contracts/Committee.sol)
and the reward token (contracts/RewardToken.sol), both round hooks of the task, deployed before
round 1 when the config asks for them, and found again from the task's hooks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fl.features.committee.reference import bps


def first_committee(cfg, client_ids: list[int]) -> list[int]:
    """The committee of round 1: `committee.size` clients drawn with the seed (later ones are elected on chain)."""
    rng = np.random.default_rng([cfg.seed, 0xC0FFEE])
    return sorted(int(client_ids[i]) for i in rng.choice(len(client_ids), size=cfg.committee.size, replace=False))


@dataclass
class OnChain:
    committee: object | None = None  # fl.chain.committee.CommitteeChain
    rewards: object | None = None  # fl.chain.rewards.RewardChain

    def addresses(self) -> dict[str, str]:
        return {name: part.address for name, part in (("committee", self.committee), ("reward_token", self.rewards))
                if part is not None}

    def reward_balances(self, accounts: dict[int, str]) -> dict[int, int]:
        """Reward units held by each client (id -> account)."""
        return {cid: self.rewards.balance(account) for cid, account in sorted(accounts.items())} if self.rewards else {}


def deploy(cfg, task, client_ids: list[int]) -> OnChain:
    """Deploy what `cfg` asks for and add it to `task`'s round hooks (the committee first)."""
    from fl.chain.committee import CommitteeChain
    from fl.chain.rewards import RewardChain

    out = OnChain()
    if cfg.committee.size:
        out.committee = CommitteeChain.deploy(task, cfg.committee.size, cfg.committee.strategy,
                                              bps(cfg.committee.select_fraction), first_committee(cfg, client_ids))
    if cfg.rewards.budget:
        out.rewards = RewardChain.deploy(task, out.committee.address if out.committee else None, cfg.rewards.budget,
                                         bps(cfg.rewards.committee_share))
    return out


def attach(task, addresses: dict[str, str]) -> OnChain:
    """The committee and reward token at `addresses` (as `OnChain.addresses` wrote them, in the
    run's chain.json); each must be one of `task`'s round hooks on chain."""
    from fl.chain.committee import CommitteeChain
    from fl.chain.rewards import RewardChain
    from fl.core.errors import UserError

    hooks = {h.lower() for h in task.round_hooks()}
    for name, address in addresses.items():
        if address.lower() not in hooks:
            raise UserError(f"the {name} at {address} is not a round hook of the task at {task.address}")
    return OnChain(committee=CommitteeChain.attach(addresses["committee"], task) if "committee" in addresses else None,
                   rewards=RewardChain.attach(addresses["reward_token"]) if "reward_token" in addresses else None)


def describe_setup(hooks: OnChain) -> str:
    """The start-up line's addition: where the committee and the token live."""
    parts = [f"committee at {hooks.committee.address}"] if hooks.committee else []
    parts += [f"reward token at {hooks.rewards.address}"] if hooks.rewards else []
    return "".join(f"\n  {p}" for p in parts)


def summary(cfg, engine, hooks: OnChain, task) -> dict:
    """What summary.json records of the attack, the committee and the rewards (read from the chain)."""
    from fl.chain.rewards import SYMBOL, to_tokens

    out: dict = {}
    if engine.adversary is not None:
        out["attack"] = {"name": cfg.attack.name, "params": engine.adversary.attack.params,
                         "malicious_clients": sorted(engine.adversary.clients)}
    if hooks.committee is not None:
        gas = engine.committee.gas
        out["committee"] = {"address": hooks.committee.address, **hooks.committee.rules(),
                            "members": {str(r): hooks.committee.members(r) for r in sorted(gas)},
                            "gas_by_round": {str(r): g for r, g in sorted(gas.items())},
                            "gas_per_round": sum(gas.values()) / max(len(gas), 1)}
    if hooks.rewards is not None:
        balances = hooks.reward_balances({cid: str(task.clients[cid]) for cid in task.clients})
        out["rewards"] = {"token": hooks.rewards.address, "symbol": SYMBOL, "budget_per_round": cfg.rewards.budget,
                          "total_supply": to_tokens(hooks.rewards.total_supply()),
                          "balances": {str(cid): to_tokens(units) for cid, units in balances.items()}}
        print(f"  rewards ({SYMBOL}): " + ", ".join(f"client {cid} {to_tokens(u):g}" for cid, u in balances.items()))
    return out
