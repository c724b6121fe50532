"""The parameters' schema: the shipped files parse, and every mistake is named in one clause."""

from __future__ import annotations

import pytest

from devkit.paths import PROJECT_ROOT
from fruits.config import load_config
from fruits.params import Parameters, parameter_problems


@pytest.mark.parametrize("env", ["local", "cloud"])
def test_the_parameters_files_parse_against_the_schema(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRUITS_BUCKET", "a-bucket")
    loader = load_config(PROJECT_ROOT, env)
    parameters = loader["parameters"]
    assert parameter_problems(parameters) == []
    assert set(parameters) == set(Parameters.model_fields) - {"raw_images", "weights", "image_size", "engine"}


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ({"samplng": {"strategy": "per_class"}}, "unknown parameter samplng (did you mean sampling?)"),
        ({"sampling": {"strategie": "all"}}, "unknown parameter sampling.strategie (did you mean sampling.strategy?)"),
        ({"sampling": {"strategy": "bogus"}}, "sampling.strategy: Input should be 'all', 'per_class' or 'total'"),
        ({"sampling": {"strategy": "total"}}, "sampling: sampling.size is required for strategy 'total'"),
        ({"sampling": {"strategy": "total", "size": -1}}, "sampling.size: Input should be greater than or equal to 0"),
        ({"pca": {"variance_target": 1.5}}, "pca.variance_target: Input should be less than or equal to 1"),
        ({"engine": "onnx"}, "engine: Input should be 'tflite' or 'keras'"),
    ],
)
def test_mistakes_are_named(parameters: dict, problem: str) -> None:
    problems = parameter_problems(parameters)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_runtime_keys_are_accepted() -> None:
    assert parameter_problems({"raw_images": "/data", "weights": "imagenet", "image_size": 160}) == []
