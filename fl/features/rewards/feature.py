"""The reward token as a feature of a run: contracts/RewardToken.sol, a round hook of the task that
mints each finalized round's budget to its contributors (and to the committee members who scored)."""
from __future__ import annotations

from fl.core.errors import UserError
from fl.features.base import Feature, FeatureAudit, RoundEvidence, Setup, check_hook
from fl.features.committee.reference import bps
from fl.features.rewards.payout import split_equally, split_in_proportion


class RewardsFeature(Feature):
    """`rewards.budget` tokens per finalized round, split by contribution."""

    name = "rewards"
    explorer = "fl.features.rewards.panel"
    section = "rewards"

    @classmethod
    def enabled(cls, cfg) -> bool:
        return cfg.rewards.budget > 0

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        self.token = None  # fl.chain.rewards.RewardChain
        self.supply = None  # the token's total supply when round_figures last read it (units)

    def deploy(self, setup: Setup) -> None:
        from fl.chain.rewards import RewardChain

        committee = setup.features.get("committee")
        self.token = RewardChain.deploy(setup.task, committee.chain.address if committee else None,
                                        self.cfg.rewards.budget, bps(self.cfg.rewards.committee_share))
        self.supply = 0
        setup.hooks()["reward_token"] = self.token.address

    def attach(self, setup: Setup) -> None:
        from fl.chain.rewards import RewardChain

        address = setup.hooks().get("reward_token")
        if address is None:
            raise UserError("the run's chain.json names no reward token, but its config asks for one")
        check_hook(setup.task, "reward_token", address)
        self.token = RewardChain.attach(address)
        self.supply = self.token.total_supply()  # what the finalized rounds minted

    def describe(self) -> str:
        return f"reward token at {self.token.address}"

    def round_figures(self) -> dict[str, float]:
        """The tokens the round minted (to its contributors and scoring committee members) and all
        minted so far: the token's total supply, read from the chain after the round."""
        from fl.chain.rewards import to_tokens

        before, self.supply = self.supply, None
        supply = self.token.total_supply()
        figures = {"rewards_total": to_tokens(supply)}
        if before is not None:  # None: the last read failed, so the difference would span rounds
            figures["rewards_paid"] = to_tokens(supply - before)
        self.supply = supply
        return figures

    def summary(self, task) -> dict:
        from fl.chain.rewards import SYMBOL, to_tokens

        balances = {cid: self.token.balance(task.client_address(cid)) for cid in range(1, task.client_count() + 1)}
        print(f"  rewards ({SYMBOL}): " + ", ".join(f"client {cid} {to_tokens(u):g}" for cid, u in balances.items()))
        return {"rewards": {"token": self.token.address, "symbol": SYMBOL, "budget_per_round": self.cfg.rewards.budget,
                            "total_supply": to_tokens(self.token.total_supply()),
                            "balances": {str(cid): to_tokens(units) for cid, units in balances.items()}}}

    @classmethod
    def audit(cls, cfg, task, info):
        return RewardsAudit(cfg, task, info.get("hooks", {}))


class RewardsAudit(FeatureAudit):
    """The token must be the task's, with the config's budget and committee share, and every
    client's balance must be what the token's rules (fl/features/rewards/payout.py) pay for the
    rounds as the chain recorded them: participants, weights, and the committee's medians and scorers."""

    def __init__(self, cfg, task, hooks: dict[str, str]):
        from fl.chain.committee import CommitteeChain
        from fl.chain.rewards import RewardChain, to_units

        super().__init__()
        self.task = task
        self.token = self.committee = None
        self.expected: dict[int, int] = {}
        address = hooks.get("reward_token")
        if address is None:
            self.setup_problems.append("the task config asks for a reward token, but the run names none")
            return
        try:
            check_hook(task, "reward token", address)
        except UserError as exc:
            self.setup_problems.append(str(exc))
            return
        self.token = RewardChain.attach(address)
        if cfg.committee.size and hooks.get("committee"):
            self.committee = CommitteeChain.attach(hooks["committee"], task)
        share = bps(cfg.rewards.committee_share) if cfg.committee.size else 0
        expected = {"task": task.address.lower(), "budget": to_units(cfg.rewards.budget), "committee share": share,
                    "committee": (hooks.get("committee") or "0x" + "00" * 20).lower()}
        found = {"task": self.token.task().lower(), "budget": self.token.budget(),
                 "committee share": self.token.committee_share_bps(), "committee": self.token.committee().lower()}
        self.setup_problems += [f"reward token {address}: {key} is {found[key]}, the task config says {value}"
                                for key, value in expected.items() if found[key] != value]

    def check(self, evidence: RoundEvidence, verdict) -> None:
        if self.token is None or not evidence.record.participants:
            return
        ids, budget = evidence.record.participants, self.token.budget()
        contribution, scorers = list(evidence.weights), []
        if self.committee is not None:
            medians = dict(zip(self.committee.scored(evidence.round), self.committee.medians(evidence.round)))
            contribution = [medians.get(c, 0) for c in ids]
            scorers = self.committee.scorers(evidence.round)
        if len(contribution) != len(ids) or not sum(contribution):
            verdict.problems.append(f"the reward token cannot have paid round {evidence.round}: contributions "
                                    f"{contribution} of participants {ids}")
            return
        to_committee = budget * self.token.committee_share_bps() // 10_000 if scorers else 0
        paid = dict(zip(ids, split_in_proportion(budget - to_committee, contribution)))
        for member, amount in (split_equally(to_committee, scorers) if scorers else {}).items():
            paid[member] = paid.get(member, 0) + amount
        for cid, amount in paid.items():
            self.expected[cid] = self.expected.get(cid, 0) + amount

    def finish(self) -> list[str]:
        if self.token is None:
            return []
        problems = []
        for cid in range(1, self.task.client_count() + 1):
            held, owed = self.token.balance(self.task.client_address(cid)), self.expected.get(cid, 0)
            if held != owed:
                problems.append(f"client {cid} holds {held} reward units, the recorded rounds pay it {owed}")
        return problems
