"""On-chain mechanisms, one package each, found through fl.features.registry."""
