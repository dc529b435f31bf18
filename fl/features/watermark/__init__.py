"""FedIPR's watermark keys as a feature of a run: negotiated on chain (contracts/WatermarkRegistry.sol)."""
