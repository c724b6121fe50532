"""The README's benchmark figures, rendered from the benchmarks' JSON output, never typed by hand.

    python -m bench.readme           # render every block of README.md again from the JSON it names
    python -m bench.readme --check   # exit 1 if a block differs from its JSON (a test runs this)

A block is ``<!-- bench:KIND PATH -->`` … ``<!-- /bench -->`` in README.md: KIND ``featurization`` renders a JSON of
``bench.featurization_bench``, ``scale`` one of ``bench.scale_bench``. To show another run, copy its JSON from
bench/results/ to bench/reference/, point the block's PATH at it and render.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
README = PROJECT_ROOT / "README.md"
BLOCK = re.compile(r"(<!-- bench:(?P<kind>\w+) (?P<path>\S+) -->\n)(?P<body>.*?)(<!-- /bench -->)", re.S)
FRAMEWORK_NAMES = {"ray": "Ray Data", "daft": "Daft"}
LARGEST_STAGES = 5


def row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def table(header: list[str], rows: list[list[object]]) -> list[str]:
    return [row(*header), row(*(["---"] * len(header))), *(row(*cells) for cells in rows)]


def slash(values: dict[str, float]) -> str:
    return " / ".join(f"{value:g}" for value in values.values())


def run_cells(project: dict[str, Any]) -> str:
    return f"{project['end_to_end_images_per_s']} img/s ({project['phases']['wall']} s)"


def sized_rows(report: dict[str, Any], frameworks: list[str]) -> list[str]:
    header = ["images", "raw ceiling", "process pool", *(FRAMEWORK_NAMES[name] for name in frameworks),
              "whole `kedro run`", "run / pool", *(f"run / {FRAMEWORK_NAMES[name]}" for name in frameworks),
              "run / ceiling", "featurize stage / ceiling", "PCA + writing", "peak GiB driver / JVM / workers",
              "CPU s driver / JVM / workers"]
    rows = []
    for item in report["sized"]:
        project = item["project"]
        rows.append([
            f"{item['size']:,}", f"{item['ceiling']['mean']} img/s", f"{item['baseline_pool']['images_per_s']} img/s",
            *(f"{item['frameworks'][name]['images_per_s']} img/s" for name in frameworks),
            run_cells(project), f"{item['ratio_to_pool']:.2f}",
            *(f"{item['ratio_to_frameworks'][name]:.2f}" for name in frameworks),
            f"{item['ratio_to_ceiling']:.2f}", f"{item['featurize_ratio_to_ceiling']:.2f}",
            f"{item['pca_plus_writing_share']:.0%}", slash(project["usage"]["peak_gib"]),
            slash(project["usage"]["cpu_seconds"]),
        ])
        if "revision" in item:
            earlier, then = item["revision"], item["revision"]["project"]
            rows.append([
                f"at `{earlier['name']}`", "", "", *([""] * len(frameworks)), run_cells(then),
                f"now / then: {earlier['wall_ratio']:.2f}", *([""] * len(frameworks)),
                f"{then['end_to_end_images_per_s'] / item['ceiling']['mean']:.2f}",
                f"{item['size'] / then['featurize_seconds'] / item['ceiling']['mean']:.2f}",
                f"{then['pca_plus_writing_seconds'] / then['phases']['wall']:.0%}", slash(then["usage"]["peak_gib"]),
                slash(then["usage"]["cpu_seconds"]),
            ])
    return table(header, rows)


def jvm_ms_per_image(project: dict[str, Any]) -> str:
    return f"{project['usage']['cpu_seconds']['jvm'] / project['images'] * 1000:.1f} ms"


def featurize_cpu(project: dict[str, Any]) -> str:
    """The JVM's share of the vector path: its CPU while ``featurize_images`` ran, per image inferred, against the
    rest of the run's JVM CPU (references taken before this figure existed say nothing)."""
    during, images = project.get("featurize_cpu_seconds"), project["images_inferred"]
    if not during or not images:
        return ""
    rest = project["usage"]["cpu_seconds"]["jvm"] - during["jvm"]
    return (f" While `featurize_images` ran, the JVM used {during['jvm'] / images * 1000:.1f} ms of CPU per image "
            f"and the Python workers {during['workers'] / images * 1000:.1f} ms; the JVM's other {rest:.1f} s went "
            "to the rest of the run.")


def where_time_went(item: dict[str, Any]) -> str:
    project = item["project"]
    phases, stages = project["phases"], project["summary"]["stage_seconds"]
    largest = sorted(stages.items(), key=lambda stage: -stage[1])[:LARGEST_STAGES]
    rest = sum(stages.values()) - sum(seconds for _, seconds in largest)
    return (f"Where the {item['size']:,}-image run's {phases['wall']} s went: imports {phases['imports']} s, checks "
            f"and model {phases['checks_and_model']} s, pipeline nodes {phases['pipeline_nodes']} s (largest: "
            + ", ".join(f"`{name}` {seconds:.1f} s" for name, seconds in largest)
            + f"; the {len(stages) - len(largest)} other stages {rest:.1f} s), publication and exit "
            f"{phases['publish_and_exit']} s. JVM CPU per image {jvm_ms_per_image(project)}"
            + (f" (at `{item['revision']['name']}`: {jvm_ms_per_image(item['revision']['project'])})"
               if "revision" in item else "")
            + f", the Python workers' {project['usage']['cpu_seconds']['workers'] / project['images'] * 1000:.1f} ms."
            + featurize_cpu(project) +
            f" Probe accuracy {project['probe_accuracy']}, PCA k = {project['pca'].get('k')} on "
            f"{project['pca'].get('fitted_on_images'):,} images.")


def incremental_rows(incremental: dict[str, Any]) -> list[str]:
    earlier = incremental.get("revision")
    header = ["on the published full run", "wall", "images inferred", "share of the full run", "JVM CPU s",
              *([f"at `{earlier['name']}`", "its share", "now / then"] if earlier else [])]
    rows = []
    for key, name in (("full", "full run"), ("unchanged", "rerun, nothing new"),
                      ("plus_one_percent", f"+1 % new images ({incremental['added']})")):
        now = incremental[key]
        share = now["phases"]["wall"] / incremental["full"]["phases"]["wall"]
        cells: list[object] = [name, f"{now['phases']['wall']} s", now["images_inferred"], f"{share:.0%}",
                               now["usage"]["cpu_seconds"]["jvm"]]
        if earlier:
            then = earlier[key]["phases"]["wall"]
            cells += [f"{then} s", f"{then / earlier['full']['phases']['wall']:.0%}",
                      f"{now['phases']['wall'] / then:.2f}"]
        rows.append(cells)
    return table(header, rows)


def photo_lines(photos: dict[str, Any]) -> list[str]:
    drafts = "; ".join(f"{margin}: cosine min {figures['min']}, mean {figures['mean']}, {figures['decode_ms']} ms a "
                       f"photo" for margin, figures in photos["draft_cosine"].items())
    count = photos["small"]["pool"]["images"]
    return [f"Multi-megapixel photos ({count} generated {photos['photo_mb']} MB EXIF-rotated JPEGs against "
            f"as many 100×100 images): per-image cost × {photos['pool_cost_ratio']} in the pool, × "
            f"{photos['project_featurize_cost_ratio']} in the project's featurize stage. Draft decoding against a full "
            f"decode, by margin: {drafts}."]


def render_featurization(report: dict[str, Any], path: str) -> list[str]:
    machine = report["machine"]
    frameworks = [name for name in FRAMEWORK_NAMES if all(name in item.get("frameworks", {})
                                                          for item in report["sized"])]
    lines = [f"{machine['cores']} vCPU {machine['cpu']}, {machine['memory_gib']} GiB, no GPU; JSON: `{path}`.", "",
             *sized_rows(report, frameworks), "", where_time_went(report["sized"][-1])]
    if "incremental" in report:
        lines += ["", *incremental_rows(report["incremental"])]
    if "photos" in report:
        lines += ["", *photo_lines(report["photos"])]
    return lines


def render_scale(report: list[dict[str, Any]], path: str) -> list[str]:
    skipped = {"wall", "to_featurize", "python_peak_gb", "jvm_peak_gb"}
    phases = [name for name in report[0]["first"] if name not in skipped]
    rows = [[f"{size['images']:,}", name.replace("_", " ").replace("plus one percent", "+1 % new"),
             *(f"{run[phase]} s" for phase in phases), f"{run['wall']} s",
             f"{run['python_peak_gb']} / {run['jvm_peak_gb']} GB"]
            for size in report for name, run in size.items() if isinstance(run, dict)]
    return [f"JSON: `{path}`.", "",
            *table(["images", "run", *phases, "wall", "driver Python / JVM peak"], rows)]


RENDERERS: dict[str, Callable[[Any, str], list[str]]] = {
    "featurization": render_featurization, "scale": render_scale}


def rendered(text: str) -> str:
    """``text`` with each block rendered again from the JSON it names."""
    def block(match: re.Match[str]) -> str:
        kind, path = match["kind"], match["path"]
        if kind not in RENDERERS:
            raise ValueError(f"Unknown benchmark block kind {kind!r}: use one of {', '.join(RENDERERS)}.")
        body = "\n".join(RENDERERS[kind](json.loads((PROJECT_ROOT / path).read_text()), path))
        return f"{match.group(1)}{body}\n{match.group(5)}"
    return BLOCK.sub(block, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md differs from its JSON")
    args = parser.parse_args()
    text = README.read_text()
    new = rendered(text)
    if args.check:
        if new != text:
            print("README.md's benchmark figures differ from their JSON: run `python -m bench.readme`.")
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
