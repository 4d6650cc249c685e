"""Benchmarks run by `make bench`: each reports ratios against a bare baseline run alongside."""
