"""Reliability tests: bad input, path safety, secrets, faults, a differential oracle, threads."""
