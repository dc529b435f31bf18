"""Running an experiment: the one run assembly, the round engine, resuming, and the Flower engine."""
