"""Result sets (``forecast/io.py``): what may be replaced, what is kept, what readers see."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from forecast import OutputError, io
from forecast.io import add_files, clean_stale, read_set, result_set


def write_set(target: Path, files: dict[str, str], **options) -> dict:
    """Write a result set holding ``files`` (relative path -> text)."""
    with result_set(target, "run", **options) as staged:
        for rel, text in files.items():
            (staged.path / rel).parent.mkdir(parents=True, exist_ok=True)
            (staged.path / rel).write_text(text)
        return staged.commit({"seed": 0})


def listing(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


def test_a_set_is_written_with_its_hashes_and_nothing_else_beside_it(tmp_path) -> None:
    manifest = write_set(tmp_path / "out", {"a.csv": "1", "figures/f.png": "png"})
    assert set(manifest["files"]) == {"a.csv", "figures/f.png"}
    assert read_set(tmp_path / "out") == manifest
    assert listing(tmp_path) == [
        "out", "out/a.csv", "out/figures", "out/figures/f.png", "out/manifest.json",
    ]  # fmt: skip


def test_a_new_set_replaces_only_the_old_sets_files(tmp_path) -> None:
    out = tmp_path / "out"
    write_set(out, {"a.csv": "1", "figures/old.png": "png"})
    (out / "notes.txt").write_text("mine")
    (out / "figures" / "mine.png").write_text("mine")
    (out / "empty").mkdir()
    write_set(out, {"a.csv": "2", "b.csv": "3"})
    assert listing(out) == [
        "a.csv", "b.csv", "empty", "figures", "figures/mine.png", "manifest.json", "notes.txt",
    ]  # fmt: skip
    assert (out / "a.csv").read_text() == "2" and (out / "notes.txt").read_text() == "mine"


def test_a_changed_file_of_a_set_is_not_replaced_without_overwrite(tmp_path) -> None:
    out = tmp_path / "out"
    write_set(out, {"a.csv": "1"})
    (out / "a.csv").write_text("edited by hand")
    with pytest.raises(OutputError, match=r"a\.csv changed since compute-gap wrote them"):
        write_set(out, {"a.csv": "2"})
    assert (out / "a.csv").read_text() == "edited by hand"
    write_set(out, {"a.csv": "2"}, overwrite=True)
    assert (out / "a.csv").read_text() == "2"


def test_a_user_file_with_a_name_of_the_set_is_not_replaced(tmp_path) -> None:
    out = tmp_path / "out"
    write_set(out, {"a.csv": "1"})
    (out / "b.csv").write_text("mine")
    with pytest.raises(OutputError, match=r"refusing to replace b.csv"):
        write_set(out, {"a.csv": "2", "b.csv": "3"}, names=["b.csv"])
    with pytest.raises(OutputError, match=r"refusing to replace b.csv"):
        write_set(out, {"a.csv": "2", "b.csv": "3"})  # found at commit time
    assert (out / "b.csv").read_text() == "mine"
    assert listing(tmp_path) == ["out", "out/a.csv", "out/b.csv", "out/manifest.json"]


def test_a_foreign_directory_needs_overwrite_and_keeps_its_other_files(tmp_path) -> None:
    out = tmp_path / "out"
    (out / "deep").mkdir(parents=True)
    (out / "deep" / "x.txt").write_text("mine")
    (out / "a.csv").write_text("mine too")
    with pytest.raises(OutputError, match=r"refusing to write into .*\(a.csv, deep\)"):
        write_set(out, {"a.csv": "1"})
    write_set(out, {"a.csv": "1"}, overwrite=True)
    assert (out / "deep" / "x.txt").read_text() == "mine" and (out / "a.csv").read_text() == "1"


@pytest.mark.parametrize("where", ["file", "cwd", "parent", "root"])
def test_targets_that_are_never_written(tmp_path, monkeypatch, where) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    target = {"file": "file", "cwd": ".", "parent": "..", "root": "/"}[where]
    with pytest.raises(OutputError):
        write_set(Path(target), {"a.csv": "1"}, overwrite=True)
    assert (tmp_path / "file").read_text() == "x"


def test_a_symbolic_link_is_followed_and_stays(tmp_path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    write_set(tmp_path / "link", {"a.csv": "1"})
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / "a.csv").is_file()


def test_readers_see_a_damaged_set(tmp_path) -> None:
    out = tmp_path / "out"
    write_set(out, {"a.csv": "1", "b.csv": "2"})
    (out / "b.csv").unlink()
    with pytest.raises(OutputError, match=r"damaged: b\.csv missing or changed"):
        read_set(out)
    with pytest.raises(OutputError, match="not a compute-gap result set"):
        read_set(tmp_path)


def test_add_files_swaps_in_a_new_set_and_never_writes_through_a_link(tmp_path) -> None:
    out = tmp_path / "out"
    write_set(out, {"a.csv": "1", "b.csv": "2"})
    before = (out / "b.csv").stat().st_ino
    manifest = add_files(out, lambda d: (d / "b.csv").write_text("new"))
    assert set(manifest["files"]) == {"a.csv", "b.csv"} and manifest["seed"] == 0
    assert (out / "b.csv").read_text() == "new" and (out / "b.csv").stat().st_ino != before
    assert read_set(out) == manifest


def test_leftovers_of_dead_writers_are_removed_and_a_moved_target_restored(tmp_path) -> None:
    out = tmp_path / "out"
    write_set(out, {"a.csv": "1"})
    dead = 2**22 + 12345  # above the default pid_max: no such process
    os.rename(out, tmp_path / f".out.cg{dead}-x.prev")
    (tmp_path / f".out.cg{dead}-y.tmp").mkdir()
    (tmp_path / f".out.cg{os.getpid()}-z.tmp").mkdir()  # a live writer's: kept
    clean_stale(out)
    assert listing(tmp_path)[0] == f".out.cg{os.getpid()}-z.tmp"
    assert read_set(out)["files"] == {"a.csv": io.sha256_file(out / "a.csv")}


def test_a_second_writer_waits_then_gives_up_with_a_message(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(io, "LOCK_WAIT_SECONDS", 0.2)
    inside, release = threading.Event(), threading.Event()

    def first() -> None:
        with result_set(tmp_path / "out", "run"):
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(10)
    try:
        with pytest.raises(OutputError, match="another compute-gap process is writing"):
            write_set(tmp_path / "out", {"a.csv": "1"})
    finally:
        release.set()
        thread.join()
    write_set(tmp_path / "out", {"a.csv": "1"})
    assert listing(tmp_path) == ["out", "out/a.csv", "out/manifest.json"]


def test_an_atomic_file_is_complete_or_absent(tmp_path) -> None:
    def failing(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        io.write_atomic(tmp_path / "f.txt", failing)
    assert listing(tmp_path) == []
