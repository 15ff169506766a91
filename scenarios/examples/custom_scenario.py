"""Define a scenario in code and compare it with the status quo on paired posterior draws.

Run from the repository root:  .venv/bin/python scenarios/examples/custom_scenario.py
The first run fits the model (a few minutes); later runs reuse the cached posterior.
"""

import forecast

# "What if Washington allowed only H20-class chips again, for about a third of demand?"
h20_only = forecast.scenario_from_dict(
    {
        "name": "h20_only",
        "description": "H20-class chips licensed for a third of China's demand from 2026",
        "extends": "status_quo",
        "levers": {"licensed_share": 0.33, "allowed_perf": 0.15},
        "rationale": {
            "licensed_share": "Analyst assumption for this example.",
            "allowed_perf": "H20 is ~0.15 H100e per chip at a similar price (chips.csv).",
        },
    }
)

result = forecast.run_scenarios([h20_only, "status_quo"], out="results/h20_only", draws=500)
diff = result.projection.compare("h20_only", "status_quo", metric="ratio_us_cn")
print(diff[diff["year"].isin([2027, 2030, 2035])].to_string(index=False))
