"""Shared test fixtures; the helpers they use live in :mod:`tests.helpers`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.datasets import write_dataset


@pytest.fixture
def small_data_dir(tmp_path: Path) -> Path:
    """A valid data directory with a capex series (2015-2024) and a share series."""
    capex = {str(year): 10.0 * 1.2 ** (year - 2015) for year in range(2015, 2025)}
    share = {"2020": 0.9, "2021": 0.8, "2022": 0.6, "2023": 0.5, "2024": 0.4}
    return write_dataset(
        tmp_path / "data",
        {"test_capex_usd_bn": capex, "test_share": share},
        units={"test_share": "share"},
        kinds={"test_share": "share"},
    )


@pytest.fixture(scope="session")
def forker():
    """The fork server of ``tests/helpers/forker.py`` (started once, on first use)."""
    from tests.helpers.forker import Forker

    server = Forker()
    yield server
    server.close()
