"""``ctn bench``: benchmarks of the product on this machine, written to docs/benchmarks.md.

- ``ingest``: the ingest pipeline against the embedding model alone, and re-ingest of an unchanged corpus;
- ``ask``: answer latency per pipeline step;
- ``retrieval-scale``: filtered dense search and BM25 at 10k and 100k chunks;
- ``embedding``: embedding speed-ups, each checked for unchanged retrieval;
- ``load``: simulated users asking a running API (Locust), in ``ctn/bench/load.py``.
"""

from ctn.bench.commands import app

__all__ = ["app"]
