"""Connect Brownie to any JSON-RPC endpoint (a node that another process runs, or a testnet)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests

from fl.chain.network import load_project
from fl.core.errors import UserError

NETWORK_ID = "onchainfl-rpc"


def _ask(url: str, method: str, timeout: float) -> int:
    try:
        reply = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": []},
                              timeout=timeout).json()
        return int(reply["result"], 16)
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise UserError(f"no Ethereum node answers at {url} ({type(exc).__name__})") from None


def chain_id_of(url: str, timeout: float = 10.0) -> int:
    return _ask(url, "eth_chainId", timeout)


def block_number_of(url: str, timeout: float = 2.0) -> int:
    """The latest block of the node at `url` (UserError if none answers)."""
    return _ask(url, "eth_blockNumber", timeout)


@contextmanager
def rpc_connected(url: str, development: bool = True) -> Iterator[str]:
    """Be connected to the node at `url` for the block; the node runs elsewhere and keeps running.

    `development` (a local node such as another process's Ganache or Anvil): Brownie's
    development settings (gas price 0, the node's unlocked accounts available). Otherwise the
    node is a live network (a testnet): Brownie prices transactions and the keys need funds.
    """
    from brownie import network
    from brownie._config import CONFIG

    load_project()
    chain_id = chain_id_of(url)
    entry = {"id": NETWORK_ID, "name": f"JSON-RPC {url}", "host": url, "chainid": str(chain_id)}
    if development:
        # a development network that Brownie never launches (connect(launch_rpc=False))
        entry.update(cmd="(external node)", cmd_settings={})
    CONFIG.networks[NETWORK_ID] = entry
    network.connect(NETWORK_ID, launch_rpc=False)
    CONFIG.argv["silent"] = True
    try:
        yield url
    finally:
        network.disconnect(kill_rpc=False)
