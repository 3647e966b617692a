"""Benchmarks (``make bench`` → ``python -m bench``): not timed tests.

Each benchmark measures the app and, in the same run, a baseline (the floor) on the same data,
prints both with their ratio, and writes ``bench/results/*.json``.  See docs/benchmarks.md.
"""
