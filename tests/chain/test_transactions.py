"""Sending through web3: revert reasons decoded; a dropped connection neither loses nor doubles a transaction."""
import pytest
import requests
from brownie import web3
from web3.logs import DISCARD

from fixtures.task import MODEL_0
from fl.chain.transactions import ChainRejected, Sender, send_and_wait


def test_a_revert_comes_back_with_its_decoded_custom_error(task, aggregator):
    sender = Sender(task.address, task.abi)
    with pytest.raises(ChainRejected, match="openRound reverted: UnexpectedRound: 1, 3"):
        sender.send("openRound", 3, MODEL_0, [0b10], sender=str(aggregator))


@pytest.mark.parametrize("lost", ["response", "request"])
def test_a_dropped_connection_sends_the_transaction_exactly_once(lost, accounts, monkeypatch):
    real = web3.eth.send_transaction
    calls = []

    def flaky(tx):
        calls.append(tx)
        if len(calls) == 1:
            if lost == "response":
                real(tx)  # the node got it; the answer was lost
            raise requests.exceptions.ConnectionError("connection reset by peer")
        return real(tx)

    monkeypatch.setattr(web3.eth, "send_transaction", flaky)
    source, target = str(accounts[0]), str(accounts[1])
    nonce = web3.eth.get_transaction_count(source)
    balance = web3.eth.get_balance(target)
    receipt = send_and_wait({"from": source, "to": target, "value": 12345, "gas": 21000, "gasPrice": 0})
    assert receipt["status"] == 1
    assert web3.eth.get_transaction_count(source) == nonce + 1
    assert web3.eth.get_balance(target) == balance + 12345
    assert len(calls) == (1 if lost == "response" else 2)


def test_receipt_events_decode_as_web3_decodes_them(task, signing_clients, signed, aggregator):
    """Sender reads logs with its own eth_abi decoder (web3's costs ~0.5 ms a log); it must agree with web3."""
    (id1, _, key1), (id2, _, _), (id3, _, key3) = signing_clients
    h1, h3 = "0x" + "c1" * 32, "0x" + "c3" * 32
    sender = Sender(task.address, task.abi)
    opened = sender.send("openRound", 1, MODEL_0, [1 << id1 | 1 << id2], sender=str(aggregator))
    batch = sender.send("commitBatch", 1, [id1, id3], [h1, h3], [signed(key1, 1, h1), signed(key3, 1, h3)],
                        sender=str(aggregator))

    assert list(opened.events["RoundOpened"][0]["selected"]) == [0b110]
    assert batch.events["UpdateCommitted"]["clientId"] == id1
    assert "0x" + bytes(batch.events["UpdateCommitted"]["updateHash"]).hex() == h1
    assert [int(e["clientId"]) for e in batch.events["CommitRejected"]] == [id3]
    contract = web3.eth.contract(address=task.address, abi=task.abi)
    for receipt in (opened, batch):
        logs = web3.eth.get_logs({"fromBlock": receipt.block, "toBlock": receipt.block, "address": task.address})
        ours = [dict(args) for name in receipt.events for args in receipt.events[name]]
        theirs = [dict(event.args) for name in receipt.events
                  for event in getattr(contract.events, name)().process_receipt({"logs": logs}, errors=DISCARD)]
        assert len(ours) == len(logs)
        assert sorted(map(repr, ours)) == sorted(map(repr, theirs))


def test_a_transaction_signed_by_another_account_is_refused_before_it_is_sent(accounts):
    from fl.chain.keys import client_private_key
    from fl.chain.transactions import send_signed, sign_fields, signed_by, unsigned_fields

    key = client_private_key(0, 0)
    fields = unsigned_fields(str(accounts[1]), str(accounts[2]))  # from accounts[2], signed with another key
    raw = sign_fields(fields, b"", key)
    nonce = fields["nonce"]
    with pytest.raises(ChainRejected, match=f"signed by {signed_by(raw)}, not by {accounts[2]}"):
        send_signed(None, "anything", raw, str(accounts[2]))
    assert web3.eth.get_transaction_count(str(accounts[2]), "pending") == nonce
