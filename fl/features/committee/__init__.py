"""Committee consensus (CMFL: Che, Li, Chen, He, Zheng, "A Decentralized Federated Learning
Framework via Committee Mechanism with Convergence Guarantee", IEEE TPDS 2022), with its rules on
chain in contracts/Committee.sol.

- `scoring`: how a member scores another client's update against its own update;
- `protocol`: a round's committee work as the engine drives it (score, submit, tally, select);
- `member`: a member that runs elsewhere (a Flower party): its own scores, its own signed transaction;
- `reference`: the contract's rules (median, selection, election) in Python;
- `audit`: what `verify` checks of a committee run;
- `feature`: the committee as a feature of a run (fl/features/base.py).
"""
