"""Auditing a finished run from its chain and its folder."""
