"""A partial run refuses, in one sentence, to combine parts made from different inputs."""

from __future__ import annotations

import pytest

from fruits.pipelines.output.nodes import account_for_files
from fruits.provenance import check_one_input

MINI = {"raw_images": "/data/fruits-360-mini/Test", "sampling": {"strategy": "all", "size": None, "seed": 42}}
PHOTOS = {"raw_images": "/home/me/photos", "sampling": {"strategy": "all", "size": None, "seed": 42}}
LISTING = {"listed": 3, "ignored": 0, "ignored_by_kind": {}, "listing_rejected": 0, "images": 3}
FEATURIZATION = {"sampled": 3, "skipped": 0, "featurized": 3, "rejected": 0}


def test_a_report_run_on_the_default_folder_refuses_parts_made_from_other_photos() -> None:
    """`kedro run --pipelines output` without the --params raw_images= of the runs that made the published parts."""
    parts = {"listing": {**PHOTOS}, "featurization_report": {**PHOTOS, "fingerprint": "fp"}}
    with pytest.raises(ValueError) as refused:
        account_for_files({**LISTING, "input": parts["listing"]}, {**FEATURIZATION, "input":
                                                                   parts["featurization_report"]}, MINI)
    message = str(refused.value)
    assert message == (
        "The published listing was made with raw_images '/home/me/photos', but this run has "
        "'/data/fruits-360-mini/Test': run the whole pipeline (`kedro run`) on one input, or give this partial run "
        "the --params of the run that made its inputs."
    )
    assert account_for_files({**LISTING, "input": PHOTOS}, {**FEATURIZATION, "input": {**PHOTOS, "fingerprint": "f"}},
                             PHOTOS)["input"] == {**PHOTOS, "fingerprint": "f"}


def test_another_sample_or_model_is_refused_and_parts_without_a_record_are_not_checked() -> None:
    other_sample = {**MINI, "sampling": {"strategy": "total", "size": 40, "seed": 42}}
    with pytest.raises(ValueError, match="The published listing was made with sampling"):
        check_one_input(MINI, listing=other_sample)
    with pytest.raises(ValueError, match="The published PCA fit was made with fingerprint 'old', but the published "
                                         "featurization report has 'new'"):
        check_one_input(MINI, featurization_report={**MINI, "fingerprint": "new"},
                        PCA_fit={**MINI, "fingerprint": "old"})
    check_one_input(MINI, listing=None, featurization_report={**MINI, "fingerprint": "fp"})
