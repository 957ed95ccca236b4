# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.codeartifact_token against botocore's Stubber: the calls it makes, what it
returns, and how every AWS error reads."""

import datetime
import json

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.stub import Stubber  # noqa: E402  (after the importorskip)

from ansible_collections.lockstep.poetry.plugins.module_utils._codeartifact import (  # noqa: E402
    CodeArtifactError,
    check_duration,
    connect,
)
from ansible_collections.lockstep.poetry.plugins.modules import codeartifact_token  # noqa: E402
from ansible_collections.lockstep.poetry.plugins.modules.codeartifact_token import token_result  # noqa: E402
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module  # noqa: E402

DOMAIN = "acme"
OWNER = "111122223333"
ENDPOINT = "https://acme-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/python/"
TOKEN = "eyJ2ZXIiOjEsImlzdSI6MTcxNDU5MTgwMH0.secret-token-value"
EXPIRATION = datetime.datetime(2026, 5, 1, 21, 30, tzinfo=datetime.timezone.utc)


@pytest.fixture
def client():
    """A real CodeArtifact client whose calls botocore's Stubber answers."""
    client = connect(region="eu-west-1", access_key="AKIAEXAMPLE", secret_key="example-secret")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def expect_token(client, duration=43200, owner=OWNER, expiration=EXPIRATION):
    params = {"domain": DOMAIN, "durationSeconds": duration}
    if owner:
        params["domainOwner"] = owner
    client.stubber.add_response(
        "get_authorization_token", {"authorizationToken": TOKEN, "expiration": expiration}, params)


def expect_endpoint(client, repository="python", owner=OWNER):
    params = {"domain": DOMAIN, "repository": repository, "format": "pypi"}
    if owner:
        params["domainOwner"] = owner
    client.stubber.add_response("get_repository_endpoint", {"repositoryEndpoint": ENDPOINT}, params)


def test_token_and_index_url(client):
    expect_token(client)
    expect_endpoint(client)
    assert token_result(client, DOMAIN, OWNER, "python") == {
        "token": TOKEN,
        "expiration": "2026-05-01T21:30:00+00:00",
        "expiration_timestamp": 1777671000,
        "repository_endpoint": ENDPOINT,
        "index_url": ENDPOINT + "simple/",
    }


def test_token_only_without_repository_or_owner(client):
    expect_token(client, duration=900, owner=None)
    result = token_result(client, DOMAIN, None, None, 900)
    assert sorted(result) == ["expiration", "expiration_timestamp", "token"]


def test_expiration_is_reported_in_utc(client):
    paris_summer = datetime.timezone(datetime.timedelta(hours=2))
    expect_token(client, expiration=datetime.datetime(2026, 5, 1, 23, 30, tzinfo=paris_summer))
    assert token_result(client, DOMAIN, OWNER)["expiration"] == "2026-05-01T21:30:00+00:00"


def test_endpoint_without_trailing_slash_still_gives_simple_url(client):
    expect_token(client)
    client.stubber.add_response("get_repository_endpoint", {"repositoryEndpoint": ENDPOINT.rstrip("/")})
    assert token_result(client, DOMAIN, OWNER, "python")["index_url"] == ENDPOINT + "simple/"


@pytest.mark.parametrize(
    "code, status, message, expected",
    [
        pytest.param(
            "AccessDeniedException", 403,
            "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: codeartifact:GetAuthorizationToken",
            "cannot get a CodeArtifact authorization token for domain 'acme' (owner 111122223333): "
            "AccessDeniedException: User: arn:aws:iam::111122223333:user/ci is not authorized to perform: "
            "codeartifact:GetAuthorizationToken (the caller needs codeartifact:GetAuthorizationToken and "
            "sts:GetServiceBearerToken)",
            id="access-denied"),
        pytest.param(
            "ResourceNotFoundException", 404, "Domain not found. Domain 'acme' not found in account 111122223333",
            "cannot get a CodeArtifact authorization token for domain 'acme' (owner 111122223333): "
            "ResourceNotFoundException: Domain not found. Domain 'acme' not found in account 111122223333 "
            "(check domain, domain_owner, repository and region)",
            id="unknown-domain"),
        pytest.param(
            "ThrottlingException", 429, "Rate exceeded",
            "cannot get a CodeArtifact authorization token for domain 'acme' (owner 111122223333): "
            "ThrottlingException: Rate exceeded (still throttled after 8 attempts)",
            id="throttled"),
        pytest.param(
            "UnrecognizedClientException", 403, "The security token included in the request is invalid.",
            "cannot get a CodeArtifact authorization token for domain 'acme' (owner 111122223333): "
            "UnrecognizedClientException: The security token included in the request is invalid. "
            "(the access key is not valid)",
            id="unknown-access-key"),
        pytest.param(
            "ValidationException", 400, "1 validation error detected",
            "cannot get a CodeArtifact authorization token for domain 'acme' (owner 111122223333): "
            "ValidationException: 1 validation error detected",
            id="validation"),
    ],
)
def test_token_errors(client, code, status, message, expected):
    client.stubber.add_client_error(
        "get_authorization_token", service_error_code=code, service_message=message, http_status_code=status)
    with pytest.raises(CodeArtifactError) as raised:
        token_result(client, DOMAIN, OWNER, "python")
    assert raised.value.msg == expected
    assert raised.value.to_fail_kwargs() == {"msg": expected, "error_code": code}


def test_unknown_repository(client):
    expect_token(client)
    client.stubber.add_client_error(
        "get_repository_endpoint", service_error_code="ResourceNotFoundException",
        service_message="Repository not found", http_status_code=404)
    with pytest.raises(CodeArtifactError) as raised:
        token_result(client, DOMAIN, OWNER, "pyton")
    assert raised.value.msg == (
        "cannot get the PyPI endpoint of CodeArtifact repository 'pyton' in domain 'acme' (owner 111122223333): "
        "ResourceNotFoundException: Repository not found (check domain, domain_owner, repository and region)")


def test_endpoint_access_denied_names_its_permission(client):
    expect_token(client)
    client.stubber.add_client_error(
        "get_repository_endpoint", service_error_code="AccessDeniedException", service_message="denied",
        http_status_code=403)
    with pytest.raises(CodeArtifactError, match=r"denied \(the caller needs codeartifact:GetRepositoryEndpoint\)$"):
        token_result(client, DOMAIN, OWNER, "python")


def test_missing_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Signing fails before any connection: the endpoint is never reached.
    client = connect(region="eu-west-1", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(CodeArtifactError) as raised:
        token_result(client, DOMAIN, OWNER)
    assert raised.value.code == "NoCredentialsError"
    assert raised.value.msg.startswith(
        "cannot get a CodeArtifact authorization token for domain 'acme' (owner 111122223333): "
        "Unable to locate credentials. Give access_key and secret_key, or a profile")


def test_unknown_profile(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    with pytest.raises(CodeArtifactError) as raised:
        connect(profile="packages-reader", region="eu-west-1")
    assert raised.value.msg == ("cannot create the CodeArtifact client: "
                                "The config profile (packages-reader) could not be found")
    assert raised.value.code == "ProfileNotFound"


def test_missing_region(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    with pytest.raises(CodeArtifactError, match="^cannot create the CodeArtifact client: You must specify a region"):
        connect(access_key="AKIAEXAMPLE", secret_key="example-secret")


def test_client_retries_throttling_with_backoff():
    client = connect(region="eu-west-1", access_key="AKIAEXAMPLE", secret_key="example-secret")
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 8}


@pytest.mark.parametrize("seconds", [0, 900, 3600, 43200])
def test_valid_durations(seconds):
    check_duration(seconds)


@pytest.mark.parametrize("seconds", [-1, 1, 899, 43201])
def test_invalid_durations(seconds):
    with pytest.raises(CodeArtifactError, match="duration_seconds must be 0 .* or between 900 and 43200; got %d$" % seconds):
        check_duration(seconds)


# -- the module as Ansible runs it


def test_module_returns_token_unchanged_and_hides_secret_options(capsys, monkeypatch, client):
    expect_token(client, duration=3600)
    expect_endpoint(client)
    connections = []

    def fake_connect(**kwargs):
        connections.append(kwargs)
        return client

    monkeypatch.setattr(codeartifact_token, "connect", fake_connect)
    result = run_module(codeartifact_token, capsys, {
        "domain": DOMAIN, "domain_owner": OWNER, "repository": "python", "duration_seconds": 3600,
        "aws_region": "eu-west-1", "access_key": "AKIAEXAMPLE", "secret_key": "example-secret",
    }, check_mode=True)
    assert result["changed"] is False
    assert result["token"] == TOKEN
    assert result["index_url"] == ENDPOINT + "simple/"
    assert connections == [{
        "region": "eu-west-1", "profile": None, "access_key": "AKIAEXAMPLE", "secret_key": "example-secret",
        "session_token": None, "endpoint_url": None,
    }]
    assert "example-secret" not in json.dumps(result["invocation"])


def test_module_refuses_bad_duration_before_connecting(capsys, monkeypatch):
    monkeypatch.setattr(codeartifact_token, "connect", pytest.fail)
    result = run_module(codeartifact_token, capsys, {"domain": DOMAIN, "duration_seconds": 60, "region": "eu-west-1"})
    assert result["failed"] is True
    assert result["msg"] == ("duration_seconds must be 0 (the token expires with the caller's session) "
                             "or between 900 and 43200; got 60")


def test_module_fails_with_aws_error_code(capsys, monkeypatch, client):
    client.stubber.add_client_error(
        "get_authorization_token", service_error_code="AccessDeniedException", service_message="denied",
        http_status_code=403)
    monkeypatch.setattr(codeartifact_token, "connect", lambda **kwargs: client)
    result = run_module(codeartifact_token, capsys, {"domain": DOMAIN, "domain_owner": OWNER, "region": "eu-west-1"})
    assert result["failed"] is True
    assert result["error_code"] == "AccessDeniedException"
    assert "token" not in result


def test_module_without_boto3(capsys, monkeypatch):
    monkeypatch.setattr(codeartifact_token, "HAS_BOTO3", False)
    monkeypatch.setattr(codeartifact_token, "BOTO3_IMPORT_ERROR", "ImportError: No module named 'boto3'")
    result = run_module(codeartifact_token, capsys, {"domain": DOMAIN})
    assert result["failed"] is True
    assert "Failed to import the required Python library (boto3)" in result["msg"]


def test_profile_and_keys_are_exclusive(capsys):
    args = {"domain": DOMAIN, "profile": "packages-reader", "access_key": "AKIAEXAMPLE", "secret_key": "example-secret"}
    result = run_module(codeartifact_token, capsys, args)
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"]
