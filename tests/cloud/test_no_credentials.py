"""Without AWS credentials, or without a bucket name of one's own: one sentence, never a traceback."""

from tests.support.paths import PROJECT_ROOT
from tests.support.project import kedro

CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def test_kedro_run_in_the_cloud_env_without_credentials_ends_in_one_sentence():
    result = kedro(PROJECT_ROOT, "run", "--env=cloud", timeout=300, unset=CREDENTIALS, FRUITS_BUCKET="my-bucket")

    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stdout and "NoCredentialsError" not in result.stdout, result.stdout
    assert result.stdout.strip().splitlines()[-1] == (
        "Error: No AWS credentials to read s3a://my-bucket/fruits/data/01_raw/fruits-360-mini/Test: run `aws "
        "configure` (or `aws sso login`), or set AWS_PROFILE; on EMR the nodes' instance profile provides them."
    )
