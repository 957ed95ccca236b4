#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: codeartifact_token
short_description: Get an AWS CodeArtifact authorization token and PyPI index URL for Poetry
version_added: 0.1.0
description:
  - Calls CodeArtifact's C(GetAuthorizationToken) and, when O(repository) is set,
    C(GetRepositoryEndpoint) for the PyPI format, and returns what Poetry needs to read the
    repository as a package source - the token (the password of user C(aws)) and the PEP 503
    index URL.
  - Changes nothing, neither on AWS nor on the host; it reports RV(ignore:changed=false).
  - The returned token is a secret. Run the task with C(no_log=true) so that Ansible does not
    print it (with C(-v) or more, or on failure), and hand it to Poetry through the C(env)
    option of the modules that run Poetry (O(lockstep.poetry.install#module:env)) or
    M(lockstep.poetry.credentials), never in a URL or on a command line (the task keyword
    C(environment) puts it on one).
  - Runs where boto3 is installed and AWS credentials are available - usually the controller
    (C(delegate_to=localhost)), or a host with an instance or task role.
author:
  - lockstep.poetry maintainers (@lockstep)
options:
  domain:
    description:
      - The CodeArtifact domain that holds the repository.
    type: str
    required: true
  domain_owner:
    description:
      - The 12-digit AWS account ID that owns O(domain).
      - When not set, the domain must belong to the caller's account.
    type: str
  repository:
    description:
      - A repository in O(domain). When set, the module also returns RV(repository_endpoint)
        and RV(index_url).
    type: str
  duration_seconds:
    description:
      - How long the token stays valid, in seconds, from V(900) (15 minutes) to V(43200)
        (12 hours).
      - V(0) makes the token expire with the caller's temporary credentials (for example an
        assumed role's session).
    type: int
    default: 43200
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.aws
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads from AWS, so it runs in check mode too and returns a token.
  diff_mode:
    support: none
seealso:
  - module: lockstep.poetry.credentials
  - name: CodeArtifact authentication and tokens
    description: How CodeArtifact tokens work and which permissions they need.
    link: https://docs.aws.amazon.com/codeartifact/latest/ug/tokens-authentication.html
  - name: Configure and use Poetry with CodeArtifact
    description: The AWS guide for Poetry users.
    link: https://docs.aws.amazon.com/codeartifact/latest/ug/python-configure-poetry.html
"""

EXAMPLES = r"""
- name: Get a CodeArtifact token and index URL on the controller
  lockstep.poetry.codeartifact_token:
    domain: acme
    domain_owner: "111122223333"
    repository: python
    region: eu-west-1
    duration_seconds: 3600
  delegate_to: localhost
  become: false
  run_once: true
  no_log: true  # the result holds the token
  register: codeartifact

- name: Install the application's locked packages from the CodeArtifact source
  lockstep.poetry.install:
    project_path: /srv/app
    env:
      # Poetry reads credentials for the source named "codeartifact" in pyproject.toml from here.
      POETRY_HTTP_BASIC_CODEARTIFACT_USERNAME: aws
      POETRY_HTTP_BASIC_CODEARTIFACT_PASSWORD: "{{ codeartifact.token }}"

- name: Use a named profile with an assumed role; the token expires with the role's session
  lockstep.poetry.codeartifact_token:
    domain: acme
    domain_owner: "111122223333"
    profile: packages-reader
    duration_seconds: 0
  delegate_to: localhost
  become: false
  no_log: true
  register: codeartifact
"""

RETURN = r"""
token:
  description:
    - The authorization token; Poetry sends it as the password of user C(aws).
    - A secret. Run the task with C(no_log=true).
  returned: success
  type: str
expiration:
  description: When the token expires, in ISO 8601 format and UTC.
  returned: success
  type: str
  sample: "2026-05-01T21:30:00+00:00"
expiration_timestamp:
  description: When the token expires, in seconds since the Unix epoch.
  returned: success
  type: int
  sample: 1777671000
repository_endpoint:
  description: The repository's PyPI endpoint, as CodeArtifact returns it.
  returned: when O(repository) is set
  type: str
  sample: https://acme-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/python/
index_url:
  description:
    - The repository's PEP 503 simple index, the URL to declare as the source in
      C(pyproject.toml) (C(poetry source add NAME URL)).
  returned: when O(repository) is set
  type: str
  sample: https://acme-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/python/simple/
"""

import datetime

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.lockstep.poetry.plugins.module_utils._codeartifact import (
    BOTO3_IMPORT_ERROR,
    CONNECTION_ARGUMENT_SPEC,
    HAS_BOTO3,
    CodeArtifactError,
    check_duration,
    connect,
    get_authorization_token,
    get_pypi_endpoint,
    simple_index_url,
)

CONNECTION_OPTIONS = tuple(CONNECTION_ARGUMENT_SPEC)


def token_result(client, domain, domain_owner=None, repository=None, duration_seconds=43200):
    """The module's result: the token, its expiry and, for a repository, its index URL."""
    token, expiration = get_authorization_token(client, domain, domain_owner, duration_seconds)
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=datetime.timezone.utc)
    expiration = expiration.astimezone(datetime.timezone.utc)
    result = dict(
        token=token,
        expiration=expiration.isoformat(),
        expiration_timestamp=int(expiration.timestamp()),
    )
    if repository:
        endpoint = get_pypi_endpoint(client, domain, repository, domain_owner)
        result.update(repository_endpoint=endpoint, index_url=simple_index_url(endpoint))
    return result


def main():
    argument_spec = dict(
        domain=dict(type="str", required=True),
        domain_owner=dict(type="str"),
        repository=dict(type="str"),
        duration_seconds=dict(type="int", default=43200),
    )
    argument_spec.update(CONNECTION_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("profile", "access_key"), ("profile", "session_token")],
        required_together=[("access_key", "secret_key")],
    )
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=BOTO3_IMPORT_ERROR)

    params = module.params
    try:
        check_duration(params["duration_seconds"])
        client = connect(**{name: params[name] for name in CONNECTION_OPTIONS})
        result = token_result(client, params["domain"], params["domain_owner"],
                              params["repository"], params["duration_seconds"])
    except CodeArtifactError as error:
        module.fail_json(**error.to_fail_kwargs())
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
