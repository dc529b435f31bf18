"""Core: errors, parameter checks, the artifact codec and store, canonical JSON, the config, the run folder."""
