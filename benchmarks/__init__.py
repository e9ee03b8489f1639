"""Speed and memory benchmarks of labelwise's acquisition engine against peer libraries.

Run ``python -m benchmarks.run`` (what ``make bench`` runs) or ``python -m benchmarks.run --quick``
for tiny sizes. See ``benchmarks/README.md`` for the method and the latest figures.
"""
