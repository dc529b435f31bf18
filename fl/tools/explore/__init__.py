"""The experiment explorer: a run (or several) as one self-contained HTML page, and live while it trains."""
