"""Who signed or sent each commitment of a task, read from the transactions that carried them."""
from __future__ import annotations

from fl.chain import signing


class CommitLog:
    """Who signed or sent each commitment, read from the transactions that carried them."""

    def __init__(self, task):
        from brownie import web3

        self.web3 = web3
        self.task = task
        self.contract = web3.eth.contract(address=task.address, abi=task.contract.abi)
        self._inputs: dict[str, tuple[str, dict, str]] = {}

    def events(self, name: str) -> list:
        return list(getattr(self.contract.events, name).get_logs(from_block=0))

    def _transaction(self, tx_hash) -> tuple[str, dict, str]:
        key = bytes(tx_hash).hex()
        if key not in self._inputs:
            tx = self.web3.eth.get_transaction(tx_hash)
            function, args = self.contract.decode_function_input(tx["input"])
            self._inputs[key] = (function.fn_name, args, tx["from"])
        return self._inputs[key]

    def committer(self, event) -> str | None:
        """The account that signed (batch) or sent (direct) the commitment of `event`."""
        name, args, sender = self._transaction(event.transactionHash)
        if name == "commitUpdate":
            return sender
        round_, client_id, digest_hash = event.args.round, event.args.clientId, bytes(event.args.updateHash)
        for cid, update_hash, signature in zip(args["clientIds"], args["updateHashes"], args["signatures"]):
            if cid == client_id and bytes(update_hash) == digest_hash:
                digest = signing.commit_digest(self.task.domain, self.task.experiment_id, round_, digest_hash)
                return signing.recover_signer(digest, bytes(signature))
        return None
