# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS CodeArtifact for the lockstep.poetry modules.

One place builds the boto3 client (with botocore's retries, so throttling is retried with
backoff) and turns every botocore error into CodeArtifactError, which modules catch once.
Private to this collection: no compatibility promise.
"""

import contextlib
import traceback

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError
except ImportError:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None

# Attempts per call, the first included. botocore's "standard" mode retries throttling
# (ThrottlingException, HTTP 429), 5xx answers and connection errors with jittered exponential
# backoff, capped at 20 seconds between attempts.
MAX_ATTEMPTS = 8

# GetAuthorizationToken accepts 0 (the token lives as long as the caller's session) or a
# duration between 15 minutes and 12 hours.
DURATION_RANGE = (900, 43200)

# Shared with the module's argument spec: the AWS connection options and their aliases, as
# amazon.aws spells them.
CONNECTION_ARGUMENT_SPEC = dict(
    region=dict(type="str", aliases=["aws_region"]),
    profile=dict(type="str", aliases=["aws_profile"]),
    # An access key ID identifies, it does not authenticate: not a secret.
    access_key=dict(type="str", no_log=False, aliases=["aws_access_key_id"]),
    secret_key=dict(type="str", no_log=True, aliases=["aws_secret_access_key"]),
    session_token=dict(type="str", no_log=True, aliases=["aws_session_token"]),
    endpoint_url=dict(type="str", aliases=["aws_endpoint_url"]),
)

# What to check when AWS answers with one of these codes.
_HINTS = {
    "ResourceNotFoundException": "check domain, domain_owner, repository and region",
    "ThrottlingException": "still throttled after %d attempts" % MAX_ATTEMPTS,
    "UnrecognizedClientException": "the access key is not valid",
    "InvalidSignatureException": "the secret key does not match the access key",
    "ExpiredTokenException": "the session token has expired",
}


class CodeArtifactError(Exception):
    """A CodeArtifact call failed; msg says what was asked and why it failed, never a secret."""

    def __init__(self, msg, code=None):
        super().__init__(msg)
        self.msg = msg
        self.code = code

    def to_fail_kwargs(self):
        kwargs = {"msg": self.msg}
        if self.code:
            kwargs["error_code"] = self.code
        return kwargs


def check_duration(seconds):
    """Refuse what GetAuthorizationToken would refuse, before calling it."""
    low, high = DURATION_RANGE
    if seconds != 0 and not low <= seconds <= high:
        raise CodeArtifactError(
            "duration_seconds must be 0 (the token expires with the caller's session) or between "
            "%d and %d; got %d" % (low, high, seconds)
        )


@contextlib.contextmanager
def _translated_errors(action, permissions=None):
    """Turn botocore exceptions raised inside the block into CodeArtifactError("ACTION: ...").

    permissions: the IAM actions the call needs, named when AWS denies access.
    """
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise CodeArtifactError(
            "%s: %s. Give access_key and secret_key, or a profile, set the AWS_* environment "
            "variables, or run where an instance or task role applies" % (action, error),
            code=type(error).__name__,
        )
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code") or "ClientError"
        msg = "%s: %s: %s" % (action, code, details.get("Message") or error)
        if code == "AccessDeniedException" and permissions:
            msg += " (the caller needs %s)" % permissions
        elif code in _HINTS:
            msg += " (%s)" % _HINTS[code]
        raise CodeArtifactError(msg, code=code)
    except BotoCoreError as error:
        raise CodeArtifactError("%s: %s" % (action, error), code=type(error).__name__)


def connect(region=None, profile=None, access_key=None, secret_key=None, session_token=None,
            endpoint_url=None):
    """A CodeArtifact client; credentials and region fall back to boto3's usual chain."""
    with _translated_errors("cannot create the CodeArtifact client"):
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=session_token,
            region_name=region,
            profile_name=profile,
        )
        return session.client(
            "codeartifact",
            endpoint_url=endpoint_url,
            config=Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
                          user_agent_extra="lockstep.poetry"),
        )


def _domain_label(domain, domain_owner):
    if domain_owner:
        return "domain '%s' (owner %s)" % (domain, domain_owner)
    return "domain '%s'" % domain


def _with_owner(params, domain_owner):
    if domain_owner:
        params["domainOwner"] = domain_owner
    return params


def get_authorization_token(client, domain, domain_owner=None, duration_seconds=43200):
    """Return (token, expiration) where expiration is a timezone-aware datetime."""
    params = _with_owner({"domain": domain, "durationSeconds": duration_seconds}, domain_owner)
    action = "cannot get a CodeArtifact authorization token for %s" % _domain_label(domain, domain_owner)
    with _translated_errors(action, "codeartifact:GetAuthorizationToken and sts:GetServiceBearerToken"):
        answer = client.get_authorization_token(**params)
    return answer["authorizationToken"], answer["expiration"]


def get_pypi_endpoint(client, domain, repository, domain_owner=None):
    """Return the repository's PyPI endpoint URL, ending with a slash."""
    params = _with_owner({"domain": domain, "repository": repository, "format": "pypi"}, domain_owner)
    action = "cannot get the PyPI endpoint of CodeArtifact repository '%s' in %s" % (
        repository, _domain_label(domain, domain_owner))
    with _translated_errors(action, "codeartifact:GetRepositoryEndpoint"):
        endpoint = client.get_repository_endpoint(**params)["repositoryEndpoint"]
    return endpoint.rstrip("/") + "/"


def simple_index_url(endpoint):
    """The PEP 503 index under a CodeArtifact PyPI endpoint: what Poetry and pip read."""
    return endpoint.rstrip("/") + "/simple/"
