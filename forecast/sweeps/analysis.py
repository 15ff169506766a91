"""Designs over a box of inputs, Sobol indices (SALib) and PRIM boxes (ema_workbench).

These functions know nothing of the engine: a SALib ``problem`` (names and bounds), a design
matrix and one output per row. :class:`forecast.sweeps.SweepResult` feeds them sweep results.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import latin
from SALib.sample import sobol as sobol_sample

from forecast.errors import UsageError
from forecast.interrupt import deferred

METHODS = ("sobol", "lhs")
#: Fewest samples a PRIM box may hold by default.
MIN_BOX_SAMPLES = 20


def design_rows(problem: dict, samples: int, method: str) -> int:
    """Rows of a design: ``samples * (D + 2)`` for Sobol (Saltelli, no second order), else N.

    Raises
    ------
    UsageError
        (a ``ValueError``) For an unknown method, or a Sobol sample count that is not a
        power of two.
    """
    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if samples < 1:
        raise UsageError(f"samples must be positive, got {samples}")
    if method == "lhs":
        return samples
    if samples & (samples - 1):
        raise UsageError(f"a Sobol design needs a power of two samples, got {samples}")
    return samples * (problem["num_vars"] + 2)


def design(problem: dict, samples: int, method: str, seed: int) -> np.ndarray:
    """Sample the input box.

    Parameters
    ----------
    problem : dict
        SALib problem: ``num_vars``, ``names``, ``bounds``.
    samples : int
        Base sample count N (a power of two for Sobol).
    method : {"sobol", "lhs"}
        ``"sobol"``: Saltelli's scheme on a scrambled Sobol' sequence, first-order and total
        indices only; ``"lhs"``: a Latin hypercube of N rows.
    seed : int

    Returns
    -------
    numpy.ndarray
        Shape ``(design_rows(problem, samples, method), num_vars)``.
    """
    design_rows(problem, samples, method)
    if method == "sobol":
        with deferred():  # SciPy's Sobol set-up swallows an exception raised inside it
            return sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    return latin.sample(problem, samples, seed=seed)


def sobol_indices(
    problem: dict, y: np.ndarray, seed: int, conf_level: float = 0.95, num_resamples: int = 200
) -> pd.DataFrame:
    """First-order and total Sobol indices with bootstrap confidence half-widths.

    Parameters
    ----------
    problem : dict
        SALib problem of the design.
    y : numpy.ndarray
        One output per design row, in design order (from :func:`design` with ``"sobol"``).
    seed : int
        Seeds the bootstrap (must be non-zero for SALib to use it).
    conf_level : float
    num_resamples : int

    Returns
    -------
    pandas.DataFrame
        ``lever, S1, S1_conf, ST, ST_conf``; an output that does not vary has all indices 0.

    Raises
    ------
    UsageError
        (a ``ValueError``) If ``y`` has non-finite values.
    """
    y = np.asarray(y, dtype=float)
    if not np.isfinite(y).all():
        raise UsageError("Sobol indices need finite outputs; some samples gave NaN or inf")
    frame = pd.DataFrame({"lever": problem["names"]})
    if np.ptp(y) == 0:  # nothing to apportion (SALib would divide by zero)
        return frame.assign(S1=0.0, S1_conf=0.0, ST=0.0, ST_conf=0.0)
    si = sobol_analyze.analyze(
        problem, y, calc_second_order=False, conf_level=conf_level,
        num_resamples=num_resamples, seed=seed,
    )  # fmt: skip
    return frame.assign(**{key: si[key] for key in ("S1", "S1_conf", "ST", "ST_conf")})


def prim_box(
    x: pd.DataFrame, y: np.ndarray, threshold: float = 0.8, mass_min: float | None = None
) -> pd.DataFrame:
    """The first PRIM box for a binary outcome: lever ranges, coverage, density and mass.

    PRIM peels the input box towards the cases of interest; of the boxes on the peeling
    trajectory, the one with the highest coverage among those with density >= ``threshold``
    is chosen (the densest of those on a tie). If PRIM's final box misses the threshold, the
    result is the whole input space.

    Parameters
    ----------
    x : pandas.DataFrame
        One float column per input.
    y : numpy.ndarray
        Boolean: the cases of interest.
    threshold : float
        Density the chosen box must reach.
    mass_min : float, optional
        Smallest share of the samples a box may hold; default: 0.05, or half the share of
        cases of interest when that is smaller (so that rare conditions still get a box), but
        at least :data:`MIN_BOX_SAMPLES` samples.

    Returns
    -------
    pandas.DataFrame
        One row per input: ``lever, low, high, restricted, qp, coverage, density, mass``;
        ``qp`` is the quasi-p value of a restriction (Bryant and Lempert 2010; NaN where
        unrestricted), and coverage, density and mass repeat on every row. Without any case of
        interest, coverage is NaN and density 0.
    """
    y = np.asarray(y, dtype=bool)
    x = x.astype(float).reset_index(drop=True)
    full = x.agg(["min", "max"]).to_numpy()
    if not y.any():
        return _box_frame(x.columns, full, full, {}, np.nan, 0.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ipyparallel and pandas notices on import and use
        from ema_workbench.analysis import prim

        if mass_min is None:
            mass_min = max(min(0.05, y.mean() / 2), MIN_BOX_SAMPLES / len(y))
        box = prim.Prim(x, y.astype(int), threshold=threshold, mass_min=mass_min).find_box()
    trajectory = box.peeling_trajectory
    dense = trajectory[trajectory["density"] >= threshold]
    best = dense.sort_values(["coverage", "density"], kind="stable").index
    chosen = int(best[-1]) if len(best) else 0
    limits = box.box_lims[chosen][x.columns].to_numpy(dtype=float)
    stats = trajectory.loc[chosen]
    return _box_frame(
        x.columns, limits, full, box.qp[chosen], stats["coverage"], stats["density"], stats["mass"]
    )


def _box_frame(
    levers: pd.Index,
    limits: np.ndarray,
    full: np.ndarray,
    qp: dict[str, list[float]],
    coverage: float,
    density: float,
    mass: float,
) -> pd.DataFrame:
    restricted = (limits[0] > full[0]) | (limits[1] < full[1])
    quasi_p = [min((p for p in qp.get(lever, []) if p >= 0), default=np.nan) for lever in levers]
    return pd.DataFrame(
        {
            "lever": levers,
            "low": limits[0],
            "high": limits[1],
            "restricted": restricted,
            "qp": np.where(restricted, quasi_p, np.nan),
            "coverage": float(coverage),
            "density": float(density),
            "mass": float(mass),
        }
    )
