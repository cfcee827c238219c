"""kazoo recipes against real zkit ensembles, and the same under faults.

A package, so that its conftest and helpers (zktools, partitioning) do not
shadow pytests/conftest.py and its imports."""
