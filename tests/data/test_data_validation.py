"""Each validation rule, with its own malformed input: file, line and problem are reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forecast import DataError, load_dataset
from forecast.cli import main
from tests.helpers.datasets import write_csv


def _problems(data_dir: Path) -> list[str]:
    with pytest.raises(DataError) as caught:
        load_dataset(data_dir)
    return [str(p) for p in caught.value.problems]


def _replace_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _obs_line(data_dir: Path, series_id: str, period: str) -> int:
    lines = (data_dir / "observations.csv").read_text(encoding="utf-8").splitlines()
    return next(i for i, t in enumerate(lines, 1) if t.startswith(f"{series_id},{period},"))


def test_clean_directory_loads(small_data_dir: Path) -> None:
    dataset = load_dataset(small_data_dir)
    assert len(dataset.observations) == 15
    assert set(dataset.series["series_id"]) == {"test_capex_usd_bn", "test_share"}
    assert dataset.observations["year"].dtype.kind == "i"


def test_missing_file(small_data_dir: Path) -> None:
    (small_data_dir / "events.csv").unlink()
    problems = _problems(small_data_dir)
    assert any(p.startswith("events.csv: missing file") for p in problems)


def test_missing_data_directory(tmp_path: Path) -> None:
    assert "data directory does not exist" in _problems(tmp_path / "nowhere")[0]


def test_empty_file(small_data_dir: Path) -> None:
    (small_data_dir / "sources.csv").write_text("", encoding="utf-8")
    assert "sources.csv: empty file (no header row)" in _problems(small_data_dir)


def test_header_only_file(small_data_dir: Path) -> None:
    write_csv(small_data_dir / "series.csv", "series", [])
    assert "series.csv: no data rows" in _problems(small_data_dir)


def test_wrong_encoding(small_data_dir: Path) -> None:
    path = small_data_dir / "sources.csv"
    path.write_bytes(path.read_bytes().replace(b"Synthetic", "Synth\u00e9tic".encode("latin-1")))
    problems = _problems(small_data_dir)
    assert any(p.startswith("sources.csv:2: not valid UTF-8") for p in problems)


def test_missing_column(small_data_dir: Path) -> None:
    path = small_data_dir / "observations.csv"
    text = path.read_text(encoding="utf-8").replace(",quality,", ",qualty,")
    path.write_text(text, encoding="utf-8")
    problems = _problems(small_data_dir)
    assert "observations.csv:1: missing column(s): quality" in problems
    assert "observations.csv:1: unexpected column(s): qualty" in problems


def test_extra_column(small_data_dir: Path) -> None:
    path = small_data_dir / "chips.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line + ",x" for line in lines) + "\n", encoding="utf-8")
    assert "chips.csv:1: unexpected column(s): x" in _problems(small_data_dir)


def test_wrong_field_count(small_data_dir: Path) -> None:
    _replace_line(small_data_dir / "observations.csv", 3, "test_share,2020,0.5")
    assert "observations.csv:3: expected 8 fields, found 3" in _problems(small_data_dir)


def test_value_not_a_number(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2016")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_capex_usd_bn,2016,twelve,,,reported,test_source,")  # fmt: skip
    assert f"observations.csv:{line}: column 'value': 'twelve' is not a number" in _problems(
        small_data_dir
    )


def test_unknown_series_id(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2017")
    _replace_line(small_data_dir / "observations.csv", line,
                  "no_such_series,2017,1.0,,,reported,test_source,")  # fmt: skip
    problems = _problems(small_data_dir)
    assert any(
        p.startswith(f"observations.csv:{line}: unknown series id 'no_such_series'")
        for p in problems
    )


def test_unknown_source_id(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2018")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_capex_usd_bn,2018,1.0,,,reported,ghost_source,")  # fmt: skip
    problems = _problems(small_data_dir)
    assert any(
        p.startswith(f"observations.csv:{line}: unknown source id 'ghost_source'") for p in problems
    )


def test_unknown_source_in_events(small_data_dir: Path) -> None:
    path = small_data_dir / "events.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",test_source", ",nope"))
    assert any(
        p.startswith("events.csv:2: unknown source id 'nope'") for p in _problems(small_data_dir)
    )


def test_duplicate_series_period(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2019")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_capex_usd_bn,2020,1.0,,,reported,test_source,")  # fmt: skip
    problems = _problems(small_data_dir)
    assert any(
        "duplicate observation for (test_capex_usd_bn, 2020)" in p and f"csv:{line}" in p
        for p in problems
    )


def test_value_outside_low_high(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2021")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_capex_usd_bn,2021,50,10,20,reported,test_source,")  # fmt: skip
    assert f"observations.csv:{line}: value 50 is above high 20" in _problems(small_data_dir)


def test_low_above_high(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2021")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_capex_usd_bn,2021,,30,20,reported,test_source,")  # fmt: skip
    assert f"observations.csv:{line}: low 30 is above high 20" in _problems(small_data_dir)


def test_all_values_empty(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2022")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_capex_usd_bn,2022,,,,reported,test_source,")  # fmt: skip
    expected = f"observations.csv:{line}: value, low and high are all empty"
    assert expected in _problems(small_data_dir)


def test_share_outside_unit_interval(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_share", "2022")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_share,2022,63,,,reported,test_source,")  # fmt: skip
    problems = _problems(small_data_dir)
    assert any(
        p.startswith(f"observations.csv:{line}: value 63 is outside [0, 1] for a share series")
        for p in problems
    )


def test_negative_money(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2023")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_capex_usd_bn,2023,-5,,,reported,test_source,")  # fmt: skip
    expected = f"observations.csv:{line}: value -5 is negative for a series in usd_bn"
    assert expected in _problems(small_data_dir)


def test_unparseable_period(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2023")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_capex_usd_bn,2023-Q5,5,,,reported,test_source,")  # fmt: skip
    problems = _problems(small_data_dir)
    assert any(p.startswith(f"observations.csv:{line}: period '2023-Q5': unparseable period")
               for p in problems)  # fmt: skip


def test_unparseable_date(small_data_dir: Path) -> None:
    path = small_data_dir / "events.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2022-10-07", "7 Oct 2022"))
    assert any(p.startswith("events.csv:2: date '7 Oct 2022': unparseable date")
               for p in _problems(small_data_dir))  # fmt: skip


def test_impossible_calendar_date(small_data_dir: Path) -> None:
    path = small_data_dir / "sources.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2026-01-01", "2026-02-30"))
    assert any(p.startswith("sources.csv:2: date '2026-02-30'") for p in _problems(small_data_dir))


def test_unknown_quality_and_unit(small_data_dir: Path) -> None:
    line = _obs_line(small_data_dir, "test_capex_usd_bn", "2024")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_capex_usd_bn,2024,5,,,rumour,test_source,")  # fmt: skip
    path = small_data_dir / "series.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",usd_bn,", ",dollars,"))
    problems = _problems(small_data_dir)
    assert any(p.startswith(f"observations.csv:{line}: quality 'rumour': quality must be one of")
               for p in problems)  # fmt: skip
    assert any(p.startswith("series.csv:2: unit 'dollars': unit must be one of") for p in problems)


def test_duplicate_series_id(small_data_dir: Path) -> None:
    path = small_data_dir / "series.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    assert "series.csv:4: duplicate series_id 'test_capex_usd_bn'" in _problems(small_data_dir)


def test_all_problems_in_a_file_are_reported(small_data_dir: Path) -> None:
    path = small_data_dir / "observations.csv"
    text = path.read_text(encoding="utf-8").replace(",reported,", ",bogus,")
    path.write_text(text, encoding="utf-8")
    problems = _problems(small_data_dir)
    assert sum("quality 'bogus'" in p for p in problems) == 15


def test_extra_observations_are_merged_and_checked(small_data_dir: Path) -> None:
    write_csv(small_data_dir / "extra_observations.csv", "observations", [
        {"series_id": "test_share", "period": "2025", "value": "0.3", "quality": "estimate",
         "source_id": "test_source"},
        {"series_id": "test_share", "period": "2024", "value": "0.3", "quality": "estimate",
         "source_id": "test_source"},
    ])  # fmt: skip
    problems = _problems(small_data_dir)
    expected = "extra_observations.csv:3: duplicate observation for (test_share, 2024)"
    assert any(p.startswith(expected) for p in problems)
    _replace_line(small_data_dir / "extra_observations.csv", 3,
                  "test_share,2026,0.2,,,estimate,test_source,")  # fmt: skip
    dataset = load_dataset(small_data_dir)
    assert dataset.history("test_share")["period"].tolist()[-2:] == ["2025", "2026"]


def test_until_drops_later_years(small_data_dir: Path) -> None:
    dataset = load_dataset(small_data_dir, until=2020)
    assert dataset.observations["year"].max() == 2020
    assert dataset.events.empty  # the only event is in 2022
    assert dataset.fingerprint != load_dataset(small_data_dir).fingerprint


def test_check_command_lists_problems_and_exits_2(small_data_dir: Path, capsys) -> None:
    line = _obs_line(small_data_dir, "test_share", "2021")
    _replace_line(small_data_dir / "observations.csv", line,
                  "test_share,2021,1.5,,,reported,test_source,")  # fmt: skip
    (small_data_dir / "chips.csv").unlink()
    code = main(["data", "--check", str(small_data_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert "chips.csv: missing file" in err
    assert f"observations.csv:{line}: value 1.5 is outside [0, 1]" in err
    assert "Traceback" not in err


def test_check_command_clean_exits_0(small_data_dir: Path, capsys) -> None:
    assert main(["data", "--check", str(small_data_dir)]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_data_command_bad_dir_exits_2(tmp_path: Path, capsys) -> None:
    shutil.rmtree(tmp_path, ignore_errors=True)
    assert main(["data", "--data-dir", str(tmp_path / "x")]) == 2
    assert "Traceback" not in capsys.readouterr().err
