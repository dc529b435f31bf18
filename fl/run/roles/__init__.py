"""The deployment shape: the aggregator and each client as separate OS processes that meet only
on the chain (round events, commitments) and in a shared artifact folder (a stand-in for IPFS)."""
