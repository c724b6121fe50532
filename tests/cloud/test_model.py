"""`upload --weights`: the weights and their TFLite conversion in the bucket, under the names a cloud run reads, so
the cluster downloads nothing from the internet and its driver never converts (no TensorFlow there)."""

import shutil

from devkit.paths import PROJECT_ROOT
from fruits.config import load_config
from fruits.datasets.inference_model import InferenceModelDataset
from tests.cloud.conftest import WEIGHTS_NAME
from tests.support.aws import BUCKET
from tests.support.paths import FIXTURE_MODEL, require_weights


def cloud_globals(monkeypatch):
    monkeypatch.setenv("FRUITS_BUCKET", BUCKET)
    return load_config(PROJECT_ROOT, "cloud")["globals"]


def test_the_cloud_run_reads_the_uploaded_model_without_converting(cli, s3, bucket, converted, monkeypatch,
                                                                    fresh_s3fs):
    output = cli("upload", "--weights", "imagenet").output

    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="fruits/")["Contents"]}
    assert {f"fruits/artifacts/weights/{WEIGHTS_NAME}", f"fruits/data/model_cache/{converted}"} <= keys
    assert "Model: 2 uploaded, 0 unchanged" in output and "Run with them" not in output
    settings = cloud_globals(monkeypatch)
    assert settings["weights"] == f"s3a://{BUCKET}/fruits/artifacts/weights/{WEIGHTS_NAME}"
    # The catalog's inference_model as conf/cloud configures it: the weights and the cache in the bucket.
    payload = InferenceModelDataset(weights=settings["weights"], image_size=224, engine="tflite",
                                    path=f"{settings['root']}/model_cache").load()
    assert payload.blob == FIXTURE_MODEL.read_bytes()  # the cache hit: a conversion would give the real model
    assert "0 uploaded, 2 unchanged" in cli("upload", "--weights", "imagenet").output


def test_other_weights_get_the_run_argument_that_names_them(cli, bucket, converted, tmp_path):
    own = tmp_path / "my_weights.h5"
    shutil.copy(require_weights(), own)

    output = cli("upload", "--weights", str(own)).output

    assert output.strip().splitlines()[-1] == (
        f"Run with them: fruits-cloud run -- --params weights=s3a://{BUCKET}/fruits/artifacts/weights/my_weights.h5"
    )


def test_missing_weights_file_is_one_sentence(error, bucket, tmp_path):
    assert "Could not get MobileNetV2 ImageNet weights from" in error("upload", "--weights", str(tmp_path / "no.h5"))
