"""Benchmarks for issue 5: batch resolution against a registry made slow by a latency proxy.

`python -m benchmarks.run` sets everything up, runs every contender and writes BENCHMARKS.md.
Nothing here is imported by the library; timings never appear in the test suite.
"""
