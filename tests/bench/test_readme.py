"""The README's benchmark figures are the kept benchmark output's, rendered, never typed by hand."""

from __future__ import annotations

import json

from bench.readme import BLOCK, README, rendered
from devkit.paths import PROJECT_ROOT


def test_every_figure_block_names_a_kept_benchmark_json() -> None:
    blocks = list(BLOCK.finditer(README.read_text()))
    assert {block["kind"] for block in blocks} == {"featurization", "scale"}
    for block in blocks:
        assert block["path"].startswith("bench/reference/")
        json.loads((PROJECT_ROOT / block["path"]).read_text())


def test_the_readme_shows_what_its_json_holds() -> None:
    text = README.read_text()
    assert rendered(text) == text, "README.md's benchmark figures differ from their JSON: run python -m bench.readme"


def test_a_changed_figure_is_caught() -> None:
    text = README.read_text()
    scale = next(block for block in BLOCK.finditer(text) if block["kind"] == "scale")
    edited = text[:scale.start("body")] + scale["body"].replace(" s |", " s  |", 1) + text[scale.end("body"):]
    assert rendered(edited) != edited
