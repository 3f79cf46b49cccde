"""Benchmarks (not tests): each measures Cosign and a baseline in the same run and prints the ratio."""
