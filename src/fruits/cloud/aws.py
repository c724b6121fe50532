"""boto3 clients, and AWS failures turned into one sentence a user can act on (no traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import click
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)


class CloudError(click.ClickException):
    """A problem the user can fix; click prints it as ``Error: <message>`` and exits with status 1."""


def error_code(exc: ClientError) -> str:
    """The service's error code (``NoSuchKey``, ``404``, ``InvalidRequestException``...) of a refusal."""
    return str(exc.response.get("Error", {}).get("Code"))


def client(service: str, region: str) -> Any:
    """A client pinned to the deployment region (never the profile's default, which may be outside the EU).

    Credentials and ``AWS_ENDPOINT_URL`` are resolved by boto3 as usual (env, profile, SSO, instance role).
    """
    return boto3.client(service, region_name=region)


def has_credentials() -> bool:
    """Whether boto3's chain finds credentials, without calling AWS (a dry run needs none)."""
    return boto3.Session().get_credentials() is not None


@contextmanager
def user_errors() -> Iterator[None]:
    """Translate the AWS failures any command can meet into a :class:`CloudError`."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise CloudError(
            "No AWS credentials found: run `aws configure` (or `aws sso login`), or set AWS_PROFILE."
        ) from exc
    except NoRegionError as exc:
        raise CloudError("No AWS region: pass --region or set it in conf/cloud/aws.yml.") from exc
    except EndpointConnectionError as exc:
        raise CloudError(f"Cannot reach AWS at {exc.kwargs.get('endpoint_url')}: check the network.") from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CloudError(f"AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}") from exc
