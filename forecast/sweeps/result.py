"""What a sweep produced: the Parquet results, Sobol indices and PRIM boxes."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from forecast.errors import UsageError
from forecast.evaluation import seed_streams, stream_seed
from forecast.io import add_files
from forecast.metrics import LOG_SCALE
from forecast.sweeps.analysis import prim_box, sobol_indices
from forecast.sweeps.spec import Condition, SweepSpec
from forecast.sweeps.store import RESULTS

SOBOL_COLUMNS = ["outcome", "scale", "lever", "S1", "S1_conf", "ST", "ST_conf"]
PRIM_COLUMNS = [
    "condition", "lever", "low", "high", "restricted", "qp", "coverage", "density", "mass",
]  # fmt: skip


@dataclass(frozen=True)
class SweepResult:
    """A completed sweep.

    Attributes
    ----------
    spec : SweepSpec
    out : pathlib.Path
        Directory holding ``manifest.json`` and ``results/``.
    manifest : dict
        Seed, samples, method, design rows, chunks, draws, hashes of the spec and the inputs.
    """

    spec: SweepSpec
    out: Path
    manifest: dict

    @property
    def results(self) -> ds.Dataset:
        """All results, lazily: a pyarrow dataset of one row per sample x outcome.

        Filter and project before loading, e.g.
        ``result.results.to_table(filter=ds.field("outcome") == "cn_share_2030")``.
        """
        return ds.dataset(self.out / RESULTS, format="parquet")

    @functools.cached_property
    def samples(self) -> pd.DataFrame:
        """One row per sample (design order): the swept levers and each outcome's median."""
        levers = list(self.spec.levers)
        frame = self.results.to_table(columns=["sample", "outcome", *levers, "q50"]).to_pandas()
        medians = frame.pivot(index="sample", columns="outcome", values="q50")
        values = frame.drop_duplicates("sample").set_index("sample")[levers]
        return values.join(medians[[o.name for o in self.spec.outcomes]]).sort_index()

    @property
    def method(self) -> str:
        """The design: ``"sobol"`` or ``"lhs"``."""
        return self.manifest["method"]

    def sobol(self, conf_level: float = 0.95) -> pd.DataFrame:
        """First-order and total Sobol indices of each outcome's posterior median.

        Stocks, flows and ratios are analysed on the log scale (a ratio of 5 vs 10 is as
        far apart as 50 vs 100; the median commutes with the log), lags and shares as they
        are (``scale`` column).

        Returns
        -------
        pandas.DataFrame
            ``outcome, lever, S1, S1_conf, ST, ST_conf`` (``_conf``: half-width of the
            ``conf_level`` bootstrap interval).

        Raises
        ------
        UsageError
            (a ``ValueError``) If the sweep did not use a Sobol design.
        """
        if self.method != "sobol":
            raise UsageError(f"Sobol indices need a Sobol design; this sweep used {self.method}")
        stream = seed_streams(self.manifest["seed"])["bootstrap"]
        bootstrap = stream_seed(stream) or 1  # SALib ignores a zero seed
        frames = []
        for o in self.spec.outcomes:
            values = self.samples[o.name].to_numpy()
            scale = "log" if o.metric in LOG_SCALE else "linear"
            values = np.log(values) if scale == "log" else values
            frames.append(
                sobol_indices(self.spec.problem, values, bootstrap, conf_level).assign(
                    outcome=o.name, scale=scale
                )
            )
        return pd.concat(frames, ignore_index=True)[SOBOL_COLUMNS]

    def prim(self, condition: str | Condition, threshold: float = 0.8) -> pd.DataFrame:
        """The PRIM box of lever ranges where ``condition`` holds (at the posterior median).

        Parameters
        ----------
        condition : str or Condition
            E.g. ``"cn_share >= 0.4 in 2030"``, over one of the sweep's outcomes.
        threshold : float
            Density the box should reach (see :func:`forecast.sweeps.analysis.prim_box`).

        Returns
        -------
        pandas.DataFrame
            ``condition, lever, low, high, restricted, qp, coverage, density, mass``.
        """
        if not isinstance(condition, Condition):
            condition = self.spec.condition(condition)
        cases = condition.holds(self.samples[condition.outcome.name].to_numpy())
        box = prim_box(self.samples[list(self.spec.levers)], cases, threshold)
        return box.assign(condition=condition.text)[PRIM_COLUMNS]

    def analyse(self) -> tuple[pd.DataFrame | None, pd.DataFrame]:
        """Sobol indices (Sobol designs only) and the PRIM box of every condition of the spec.

        Adds ``sobol.csv`` and ``prim.csv`` to the result set in :attr:`out` (a new set,
        swapped in as a whole).

        Returns
        -------
        tuple of (pandas.DataFrame or None, pandas.DataFrame)
        """
        sobol = self.sobol() if self.method == "sobol" else None
        frames = [self.prim(c) for c in self.spec.conditions]
        boxes = (
            pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PRIM_COLUMNS)
        )

        def write(directory: Path) -> None:
            if sobol is not None:
                sobol.to_csv(directory / "sobol.csv", index=False)
            boxes.to_csv(directory / "prim.csv", index=False)

        add_files(self.out, write)
        return sobol, boxes
