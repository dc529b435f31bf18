"""Deploying a project contract, and finding one already deployed on the connected chain."""
from __future__ import annotations

from fl.chain.network import load_project
from fl.chain.transactions import TxStats
from fl.chain.transactions import deploy as deploy_container
from fl.core.errors import UserError


def deploy(name: str, *args, sender, stats: TxStats):
    """Deploy contract `name` from `sender` (a node account, or an address whose key is in the
    KEYRING); its gas counts in `stats`."""
    return deploy_container(getattr(load_project(), name), *args, sender=str(sender), stats=stats)


def attach(name: str, address: str):
    """The contract `name` at `address`; UserError if nothing is deployed there."""
    from brownie import Contract, web3

    project = load_project()
    if len(web3.eth.get_code(address)) == 0:
        raise UserError(f"no {name} at {address} on this chain")
    return Contract.from_abi(name, address, getattr(project, name).abi)
