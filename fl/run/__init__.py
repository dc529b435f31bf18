"""Running an experiment: the one run assembly, the round engine, resuming, the client and aggregator roles."""
