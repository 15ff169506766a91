"""One distribution type: moments, PyMC log densities, validation, and the old forms it replaces."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from forecast.errors import InputError, ModelError, ScenarioError
from forecast.model.config import ASSUMPTIONS, CSV_PARAMETERS, _plain, model_config
from forecast.priors import DISTRIBUTIONS, DeprecatedFormWarning, Prior
from forecast.scenarios import LEVERS, load_scenario, scenario_from_dict

#: Each distribution and parameterisation, with the same distribution written for scipy.
CASES = [
    (Prior("normal", mu=1.5, sigma=0.4), stats.norm(1.5, 0.4)),
    (Prior("halfnormal", sigma=2.0), stats.halfnorm(scale=2.0)),
    (Prior("lognormal", mu=-0.5, sigma=0.3), stats.lognorm(0.3, scale=np.exp(-0.5))),
    (Prior("lognormal", median=0.08, sigma=0.5), stats.lognorm(0.5, scale=0.08)),
    (Prior("beta", alpha=2.0, beta=5.0), stats.beta(2.0, 5.0)),
    # mean 0.2, sd 0.05: shapes 12.6 and 50.4
    (Prior("beta", mu=0.2, sigma=0.05), stats.beta(12.6, 50.4)),
    (Prior("uniform", lower=-1.0, upper=3.0), stats.uniform(-1.0, 4.0)),
    (Prior("triangular", lower=0.7, mode=0.85, upper=1.0), stats.triang(0.5, 0.7, 0.3)),
    (
        Prior("truncnormal", mu=0.5, sigma=1.0, lower=0.0, upper=2.0),
        stats.truncnorm(-0.5, 1.5, 0.5, 1.0),
    ),
]
IDS = [p.describe() for p, _ in CASES]


@pytest.mark.parametrize(("prior", "reference"), CASES, ids=IDS)
def test_sampling_moments_match_the_analytic_values(prior, reference) -> None:
    n = 200_000
    draws = prior.sample(np.random.default_rng(0), n)
    assert draws.shape == (n,)
    mean, var = reference.stats("mv")
    assert abs(draws.mean() - mean) < 5 * np.sqrt(var / n)
    assert draws.var() == pytest.approx(var, rel=0.02)
    low, high = prior.support()
    assert low <= draws.min() and draws.max() <= high
    assert prior.quantile(0.3) == pytest.approx(reference.ppf(0.3), rel=1e-6)


@pytest.mark.parametrize(("prior", "reference"), CASES, ids=IDS)
def test_the_pymc_variable_has_scipys_log_density(prior, reference) -> None:
    import pymc as pm

    with pm.Model():
        variable = prior.create_variable("x")
    points = reference.ppf([0.01, 0.2, 0.5, 0.9, 0.99])
    logp = pm.logp(variable, points).eval()
    np.testing.assert_allclose(logp, reference.logpdf(points), rtol=1e-6, atol=1e-9)


def test_stacked_priors_make_one_vector_variable_with_dims() -> None:
    import pymc as pm

    priors = [Prior("normal", mu=0.0, sigma=1.0), Prior("normal", mu=2.0, sigma=0.5)]
    vector = Prior.stack(priors)
    assert vector.params == {"mu": (0.0, 2.0), "sigma": (1.0, 0.5)}
    with pm.Model(coords={"k": ["a", "b"]}) as model:
        vector.create_variable("effects", dims="k")
    assert model.named_vars_to_dims["effects"] == ("k",)
    # as the model drew them before: one call with per-element means and sds
    expected = np.random.default_rng(1).normal([0.0, 2.0], [1.0, 0.5])
    np.testing.assert_array_equal(vector.sample(np.random.default_rng(1)), expected)
    assert Prior.stack([]).sample(np.random.default_rng(1)).shape == (0,)


@pytest.mark.parametrize(
    ("dist", "params", "message"),
    [
        ("weibull", {"k": 1.0}, "unknown distribution 'weibull'"),
        (
            "beta",
            {"a": 2.0, "b": 5.0},
            "beta takes parameters ['alpha', 'beta'] or ['mu', 'sigma']",
        ),
        ("beta", {"alpha": -1.0, "beta": 2.0}, "beta needs alpha > 0 and beta > 0"),
        ("beta", {"mu": 0.5, "sigma": 0.6}, "beta needs 0 < mu < 1 and 0 < sigma"),
        ("normal", {"mu": 0.0, "sigma": 0.0}, "sigma must be > 0"),
        ("normal", {"mu": float("nan"), "sigma": 1.0}, "must be finite numbers"),
        ("normal", {"mu": "0", "sigma": 1.0}, "must be numbers"),
        ("normal", {"mu": True, "sigma": 1.0}, "must be numbers"),
        ("lognormal", {"median": -1.0, "sigma": 1.0}, "median must be > 0"),
        ("uniform", {"lower": 2.0, "upper": 1.0}, "uniform needs lower <= upper"),
        ("triangular", {"lower": 0.0, "mode": 2.0, "upper": 1.0}, "lower <= mode <= upper"),
        ("truncnormal", {"mu": 0.0, "sigma": 1.0, "lower": 1.0, "upper": 1.0}, "lower < upper"),
    ],
)
def test_invalid_parameters_are_clear_errors(dist, params, message) -> None:
    with pytest.raises(InputError, match=f"Prior\\('{dist}'\\): .*{message[:20]}"):
        Prior(dist, **params)
    parsed, problems = Prior.parse({"dist": dist, **params}, "levers.leakage")
    assert parsed is None and problems[0].startswith("levers.leakage: ")
    assert message in problems[0]


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.sampled_from(list(DISTRIBUTIONS)), st.text(max_size=6)),
    st.dictionaries(
        st.sampled_from(["mu", "sigma", "alpha", "beta", "lower", "upper", "mode", "median", "x"]),
        st.one_of(st.floats(), st.integers(), st.text(max_size=3), st.lists(st.floats())),
        max_size=4,
    ),
)
def test_bad_arguments_raise_only_input_error(dist, params) -> None:
    try:
        prior = Prior(dist, **params)
    except InputError:
        return
    low, high = prior.support()
    assert low <= high


def test_text_and_dict_forms_round_trip() -> None:
    prior = Prior("beta", alpha=2, beta=5, source="a reason")
    assert prior.describe() == "beta(alpha=2, beta=5)"
    assert prior.to_dict() == {"dist": "beta", "alpha": 2.0, "beta": 5.0}
    assert Prior.parse(prior.to_dict(), "x") == (prior, [])
    assert prior == Prior("beta", beta=5.0, alpha=2.0)  # the source is not compared
    assert prior.with_params(mu=0.2, sigma=0.05) == Prior("beta", mu=0.2, sigma=0.05)
    assert repr(prior) == "Prior('beta', alpha=2.0, beta=5.0)"


# -- the model configuration -------------------------------------------------------------


def test_the_csv_priors_keep_their_old_canonical_form() -> None:
    """The config key (and with it the fit cache) did not change with the Prior type: each
    prior hashes as the ``dist, a, b`` it had."""
    config = model_config()
    groups = {"prior": config.priors, "world": config.world, "factor": config.factors}
    interventions = iter(config.interventions)
    for row in ASSUMPTIONS:
        prior = (
            next(interventions).prior if row["group"] == "intervention"
            else groups[row["group"]][row["name"]]
        )  # fmt: skip
        assert prior.names == CSV_PARAMETERS[row["dist"]]
        assert _plain(prior) == {"dist": row["dist"], "a": float(row["a"]), "b": float(row["b"])}


def test_old_model_config_overrides_warn_and_equal_the_named_form() -> None:
    named = model_config(
        {"priors": {"retirement": {"mu": 0.25}}, "world": {"row_share": {"sigma": 0.1}}}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = model_config(
            {"priors": {"retirement": {"a": 0.25}}, "world": {"row_share": {"b": 0.1}}}
        )
    assert [str(w.message) for w in caught] == [
        "priors['retirement']: a and b are the old names of beta's mu and sigma; write 'mu' "
        "for 'a'",
        "world['row_share']: a and b are the old names of beta's mu and sigma; write 'sigma' "
        "for 'b'",
    ]
    assert all(w.category is DeprecatedFormWarning for w in caught)
    assert caught[0].filename == __file__  # points at the caller
    assert old == named and old.key() == named.key()
    assert old.priors["retirement"].source == model_config().priors["retirement"].source
    shapes = Prior("beta", mu=0.25, sigma=named.priors["retirement"]["sigma"])
    replaced = model_config({"priors": {"retirement": shapes.to_dict()}})
    assert replaced.priors["retirement"] == shapes
    with pytest.raises(ModelError, match=r"priors\['retirement'\]: .* beta takes parameters"):
        model_config({"priors": {"retirement": {"alpha": 1.0}}})
    with pytest.raises(ModelError, match="unknown field"):
        model_config({"priors": {"retirement": {"mean": 1.0}}})


def test_beta_by_mean_and_sd_draws_as_by_its_shapes() -> None:
    """The model config's beta priors (mean, sd) draw exactly as their shape parameters did."""
    mean, sd = 0.2, 0.05
    common = mean * (1 - mean) / sd**2 - 1
    by_mean = Prior("beta", mu=mean, sigma=sd).sample(np.random.default_rng(3), 50)
    by_shape = np.random.default_rng(3).beta(mean * common, (1 - mean) * common, 50)
    np.testing.assert_array_equal(by_mean, by_shape)
    by_median = Prior("lognormal", median=1.15, sigma=0.15).sample(np.random.default_rng(3), 50)
    by_mu = Prior("lognormal", mu=np.log(1.15), sigma=0.15).sample(np.random.default_rng(3), 50)
    np.testing.assert_array_equal(by_median, by_mu)


# -- scenario files --------------------------------------------------------------------------

OLD_AND_NEW = [
    ({"dist": "uniform", "low": 0.2, "high": 0.8}, {"dist": "uniform", "lower": 0.2, "upper": 0.8}),
    (
        {"dist": "triangular", "low": 0.2, "mode": 0.35, "high": 0.6},
        {"dist": "triangular", "lower": 0.2, "mode": 0.35, "upper": 0.6},
    ),
    ({"dist": "beta", "a": 2.0, "b": 5.0}, {"dist": "beta", "alpha": 2.0, "beta": 5.0}),
]


@pytest.mark.parametrize(("old", "new"), OLD_AND_NEW, ids=["uniform", "triangular", "beta"])
def test_old_and_new_scenario_forms_give_identical_draws(old, new) -> None:
    def lever(form: dict, name: str):
        raw = {"name": name, "description": "x", "start": 2026, "levers": {"leakage": form}}
        return scenario_from_dict(raw).levers["leakage"]

    with pytest.warns(DeprecatedFormWarning, match=f"<old-{old['dist']}>: old distribution"):
        before = lever(old, f"old-{old['dist']}")
    after = lever(new, f"new-{new['dist']}")
    assert before == after
    years = np.arange(2026, 2031)
    a = before.evaluate(years, 500, np.random.default_rng(11))
    b = after.evaluate(years, 500, np.random.default_rng(11))
    np.testing.assert_array_equal(a, b)


def test_draws_match_the_old_scenario_sampler() -> None:
    """What scenarios drew before :class:`Prior`, call for call."""
    rng = lambda: np.random.default_rng(5)  # noqa: E731
    assert np.array_equal(Prior("uniform", lower=0.2, upper=0.8).sample(rng(), 9),
                          rng().uniform(0.2, 0.8, 9))  # fmt: skip
    assert np.array_equal(Prior("triangular", lower=0.2, mode=0.3, upper=0.6).sample(rng(), 9),
                          rng().triangular(0.2, 0.3, 0.6, 9))  # fmt: skip
    assert np.array_equal(Prior("beta", alpha=2, beta=5).sample(rng(), 9), rng().beta(2, 5, 9))
    point = Prior("triangular", lower=0.4, mode=0.4, upper=0.4).sample(rng(), 3)
    assert np.array_equal(point, [0.4, 0.4, 0.4])
    # the old sampler's median * exp(sigma * z): equal to the last bit or two
    old = 4e6 * np.exp(0.3 * rng().standard_normal(9))
    np.testing.assert_allclose(
        Prior("lognormal", median=4e6, sigma=0.3).sample(rng(), 9), old, rtol=4e-15
    )


def test_an_old_form_file_warns_once_with_the_new_form(tmp_path: Path) -> None:
    path = tmp_path / "old.toml"
    path.write_text(
        'name = "old"\ndescription = "x"\nstart = 2026\n[levers]\n'
        'leakage = { dist = "beta", a = 2, b = 5 }\n'
        'domestic_yield = { dist = "uniform", low = 0.2, high = 0.6 }\n',
        encoding="utf-8",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = load_scenario(path)
        load_scenario(path)
    found = [w for w in caught if issubclass(w.category, DeprecatedFormWarning)]
    assert len(found) == 1
    message = str(found[0].message)
    assert str(path) in message
    assert 'levers.leakage = { dist = "beta", alpha = 2, beta = 5 }' in message
    assert 'levers.domestic_yield = { dist = "uniform", lower = 0.2, upper = 0.6 }' in message
    assert first.levers["leakage"].prior == Prior("beta", alpha=2, beta=5)


def test_new_distributions_are_lever_values_within_the_range() -> None:
    def load(lever: str, form: dict):
        raw = {"name": "n", "description": "x", "start": 2026, "levers": {lever: form}}
        return scenario_from_dict(raw).levers[lever]

    bounded = load("utilization", {"dist": "truncnormal", "mu": 0.6, "sigma": 0.2, "lower": 0.3,
                                   "upper": 0.9})  # fmt: skip
    assert bounded.prior == Prior("truncnormal", mu=0.6, sigma=0.2, lower=0.3, upper=0.9)
    by_mean = load("leakage", {"dist": "beta", "mu": 0.6, "sigma": 0.1})
    assert by_mean.describe() == "beta(mu=0.6, sigma=0.1)"
    assert LEVERS["utilization"].low == 0.05
    with pytest.raises(ScenarioError, match=r"utilization: 0\.1 % quantile .* outside the valid"):
        load("utilization", {"dist": "normal", "mu": 0.6, "sigma": 0.3})
    with pytest.raises(ScenarioError, match="utilization: lower bound 0 is outside the valid"):
        load("utilization", {"dist": "beta", "alpha": 2, "beta": 2})
