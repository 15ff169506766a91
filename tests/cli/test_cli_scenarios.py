"""``compute-gap scenarios``: listing, showing, and bad files (exit 2, no traceback)."""

from __future__ import annotations

from pathlib import Path

from forecast.cli import main


def test_list_shows_the_library(capsys) -> None:
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in ("status_quo", "tighten", "loosen_h200", "no_controls_counterfactual"):
        assert name in out


def test_show_prints_resolved_levers(capsys) -> None:
    assert main(["scenarios", "--show", "loosen_blackwell"]) == 0
    out = capsys.readouterr().out
    assert "loosen_blackwell < loosen_h200 < status_quo" in out
    assert "allowed_perf" in out and "licensed_share" in out and "0.9" in out


def test_bad_scenario_file_exits_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\ndescription = "x"\nstart = 2026\n[levers]\nleak = 1\n')
    assert main(["scenarios", "--show", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "levers.leak: unknown lever" in err
    assert "Traceback" not in err


def test_usage_errors_exit_2_without_traceback(capsys) -> None:
    for argv in (["data", "--until", "soon"], ["no-such-command"], ["scenarios", "--bogus"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "Error" in err and "Traceback" not in err


def test_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("compute-gap 0.")
