"""The Flower engine: an experiment's clients as Flower `ClientApp`s, on Flower's simulation engine
(Ray) or on a deployment of a SuperLink and SuperNodes over gRPC, every round on chain as in the
in-process engine. The server side is a Flower strategy (strategy.py) around the run's engine."""
import os

# Flower reports usage to its makers unless told not to; nothing here leaves the machine. Read
# when flwr is first imported, and inherited by the SuperLink, SuperNodes and Ray's workers.
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
