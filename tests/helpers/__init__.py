"""Shared test helpers: imported by test modules, benchmarks and ``conftest.py``.

Test modules import helpers from here, never from ``conftest.py`` or from one another; the
package itself imports nothing, so each helper module loads only what it needs.
"""
