"""`make bench` (``python -m bench``): sleekbatch's figures on PostgreSQL + Redis with real workers.

One module per phase in bench/phases/, merged into var/bench.json per phase. How to run one
phase, what bench.json records and the contract for adding a phase: bench/README.md.
"""
