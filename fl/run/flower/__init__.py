"""The Flower engine: an experiment's clients as Flower `ClientApp`s, on Flower's simulation engine
(Ray) or on a deployment of a SuperLink and SuperNodes over gRPC, every round on chain as in the
in-process engine. The server side is a Flower strategy (strategy.py) around the run's engine."""
