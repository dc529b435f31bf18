"""Attendance: per client, the number of finalized rounds it was aggregated in, counted on chain."""
