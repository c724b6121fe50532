"""The parameters' schema. Kedro builds these models for the nodes from their type hints (so a node receives a
validated object), and the pre-flight hook checks the whole file, unknown keys included, before any work starts."""

from __future__ import annotations

import difflib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PositiveInt = Annotated[int, Field(ge=1)]
Fraction = Annotated[float, Field(gt=0, le=1)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestionParams(Strict):
    image_extensions: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".heic", ".heif")
    inventory: str | None = None

    @model_validator(mode="after")
    def _dotted(self) -> IngestionParams:
        if not all(extension.startswith(".") for extension in self.image_extensions):
            raise ValueError("image_extensions are file endings starting with a dot, e.g. .jpg")
        return self


class SamplingParams(Strict):
    strategy: Literal["all", "per_class", "total"] = "all"
    size: Annotated[int, Field(ge=0)] | None = None
    seed: int = 42

    @model_validator(mode="after")
    def _size_for_strategy(self) -> SamplingParams:
        if self.strategy != "all" and self.size is None:
            raise ValueError(f"sampling.size is required for strategy {self.strategy!r} (a whole number >= 0)")
        return self


class FeaturizationParams(Strict):
    batch_size: PositiveInt = 16
    threads_per_task: PositiveInt = 1
    tasks_per_core: PositiveInt = 2
    max_images_per_task: PositiveInt = 1000
    full_refresh: bool = False


class PcaParams(Strict):
    variance_target: Fraction = 0.95
    max_components: PositiveInt = 400
    n_components: PositiveInt | None = None
    max_fit_rows: PositiveInt | None = 5000
    seed: int = 42
    refit: bool = False
    refit_growth: Annotated[float, Field(ge=0)] = 0.25


class ProbeParams(Strict):
    enabled: bool = True
    test_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.2
    max_train_per_class: PositiveInt = 30
    frames_per_group: PositiveInt = 10
    seed: int = 42


class ReportingParams(Strict):
    max_reject_rows: PositiveInt = 10000
    map_max_points: PositiveInt = 5000
    gallery_queries: Annotated[int, Field(ge=0)] = 6
    gallery_neighbours: PositiveInt = 5


class PublishingParams(Strict):
    keep_runs: PositiveInt = 5
    vacuum_retention_hours: Annotated[float, Field(ge=168)] = 168


class Parameters(Strict):
    """The whole parameters file, plus the runtime-only keys the catalog reads (``--params raw_images=...``)."""

    ingestion: IngestionParams = IngestionParams()
    sampling: SamplingParams = SamplingParams()
    featurization: FeaturizationParams = FeaturizationParams()
    pca: PcaParams = PcaParams()
    reporting: ReportingParams = ReportingParams()
    probe: ProbeParams = ProbeParams()
    publishing: PublishingParams = PublishingParams()
    raw_images: str | None = None
    weights: str | None = None
    image_size: PositiveInt | None = None
    engine: Literal["tflite", "keras"] | None = None


def _location(error: dict) -> str:
    return ".".join(str(part) for part in error["loc"])


def _sentence(error: dict) -> str:
    """One readable clause per problem, naming the key (and a close known key for a typo)."""
    where = _location(error)
    if error["type"] == "extra_forbidden":
        *parent, name = [str(part) for part in error["loc"]]
        model = Parameters
        for part in parent:
            model = model.model_fields[part].annotation
        close = difflib.get_close_matches(name, list(model.model_fields), n=1)
        hint = f" (did you mean {'.'.join([*parent, close[0]])}?)" if close else ""
        return f"unknown parameter {where}{hint}"
    if error["type"] == "value_error":  # a rule across keys: its message names them
        return f"{where}: {error['msg'].removeprefix('Value error, ')}"
    return f"{where}: {error['msg']} (got {error['input']!r})"


def parameter_problems(parameters: dict) -> list[str]:
    """What is wrong with a parameters dict, one readable clause per problem (empty when valid)."""
    try:
        Parameters.model_validate(parameters)
    except ValidationError as error:
        return [_sentence(item) for item in error.errors(include_url=False)]
    return []
