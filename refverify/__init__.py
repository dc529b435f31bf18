"""An independent verifier of OnChainFL run folders that follows only VERIFY.md.

It shares no code with the project's own verifier (`python -m fl verify`): it reads the run
folder, parses the safetensors artifacts itself, talks to the chain over raw JSON-RPC with the
few ABI fragments it declares itself, and recomputes every server step with numpy in IEEE-754
binary64 as VERIFY.md specifies. It needs no model code and no torch, so the checks that need
training code (the round-1 initial model, the reported metrics) are out of its scope.

    python -m refverify RUN --rpc http://127.0.0.1:8545
"""

__all__ = ["artifact", "arith", "chain", "checks", "jcs"]
