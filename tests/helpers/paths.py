"""Paths of the repository, the same from any depth of the test tree."""

from __future__ import annotations

from pathlib import Path

#: The repository root (where ``pyproject.toml``, ``data/`` and ``scenarios/`` are).
ROOT = Path(__file__).resolve().parents[2]
