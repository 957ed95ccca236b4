#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: credentials
short_description: Store a package repository's credentials and certificates for Poetry
version_added: 0.1.0
description:
  - Manages what Poetry knows about how to reach one package repository, in Poetry's C(auth.toml)
    (the file C(poetry config http-basic.NAME) writes) - a username and password
    (C(http-basic.NAME)), an API token (C(pypi-token.NAME)), a CA bundle or no TLS verification
    (C(certificates.NAME.cert)) and a client certificate (C(certificates.NAME.client-cert)).
  - Edits the file directly, never through C(poetry config), so that no secret appears on a
    command line (other users can read every process's command line). The file is replaced
    atomically, created with mode C(0600) in a directory of mode C(0700), and owned by the user
    the task runs as; an existing file readable by group or others is made private.
  - With O(state=present), only what the task gives is managed; other settings of the repository
    and other repositories' entries are left as they are. O(state=absent) removes everything
    stored for the repository.
  - Secrets are compared without being shown; the diff says that a secret changed, never its
    value.
author:
  - lockstep.poetry maintainers (@lockstep)
options:
  repository:
    description:
      - The repository's name, as the source is named in the projects' C(pyproject.toml)
        (C([[tool.poetry.source]] name)) or in C(repositories.NAME.url) for publishing.
    type: str
    required: true
    aliases: [name]
  username:
    description:
      - The username for HTTP basic authentication (C(http-basic.NAME.username)).
      - For AWS CodeArtifact, V(aws) with the token of M(lockstep.poetry.codeartifact_token) as
        O(password).
    type: str
  password:
    description:
      - The password that goes with O(username) (C(http-basic.NAME.password)).
    type: str
  token:
    description:
      - An API token (C(pypi-token.NAME)). Poetry uses it to publish to the repository (C(poetry
        publish -r NAME)); to install from a repository that takes tokens, give the token as
        O(password) with the username the repository expects (for example V(__token__)).
    type: str
  update_secret:
    description:
      - V(always) stores O(password) and O(token) when they differ from the stored ones.
      - V(on_create) stores them only when none is stored yet, like the C(update_password) option
        of M(ansible.builtin.user).
    type: str
    choices: [always, on_create]
    default: always
  ca_cert:
    description:
      - Absolute path, on the managed host, of a CA bundle (PEM) to verify the repository's TLS
        certificate with (C(certificates.NAME.cert)), for a repository behind a private CA.
    type: path
    aliases: [cert]
  validate_certs:
    description:
      - V(false) turns off TLS verification for the repository (C(certificates.NAME.cert =
        false)). Prefer O(ca_cert).
      - V(true) removes a stored V(false); it cannot be combined with O(ca_cert).
      - When not set, the stored setting is left as it is.
    type: bool
  client_cert:
    description:
      - Absolute path, on the managed host, of a PEM file holding the client certificate and its
        private key, for repositories that require TLS client authentication
        (C(certificates.NAME.client-cert)). Keep that file private to its user (mode C(0600)).
    type: path
  state:
    description:
      - V(present) stores the given settings.
      - V(absent) removes the repository's credentials and certificate settings, whatever else is
        given.
    type: str
    choices: [present, absent]
    default: present
  config_dir:
    description:
      - Poetry's configuration directory, where C(auth.toml) lives.
      - When not set, E(POETRY_CONFIG_DIR) of the task's environment, else
        C(~/.config/pypoetry) of the user the task runs as (with E(XDG_CONFIG_HOME) honoured).
    type: path
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.idempotent
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Secret values are never shown; the diff marks them as changed or unchanged.
notes:
  - Poetry reads the password from C(auth.toml) before it asks the system keyring, but it may
    still try the keyring for other URLs; on servers, where a keyring can block Poetry, disable
    it for the same user with M(lockstep.poetry.config) (C(keyring.enabled=false)), as the
    C(lockstep.poetry.repositories) role does.
  - Settings from E(POETRY_HTTP_BASIC_NAME_USERNAME) and similar environment variables take
    precedence over C(auth.toml).
  - Run the task as the user whose Poetry should use the credentials (C(become_user)).
requirements:
  - tomlkit on the managed host.
seealso:
  - module: lockstep.poetry.codeartifact_token
  - module: lockstep.poetry.config
  - name: Poetry repositories and credentials
    description: How Poetry configures credentials and certificates.
    link: https://python-poetry.org/docs/repositories/#configuring-credentials
"""

EXAMPLES = r"""
- name: Store credentials for the "internal" source of the deploy user's projects
  lockstep.poetry.credentials:
    repository: internal
    username: deploy
    password: "{{ vault_internal_index_password }}"
  become: true
  become_user: deploy

- name: Set the password only when none is stored (rotate it elsewhere)
  lockstep.poetry.credentials:
    repository: internal
    username: deploy
    password: "{{ vault_internal_index_password }}"
    update_secret: on_create

- name: Reach a repository behind a private CA with a client certificate
  lockstep.poetry.credentials:
    repository: internal
    ca_cert: /etc/ssl/certs/internal-ca.pem
    client_cert: /home/deploy/.config/pypoetry/internal-client.pem

- name: Store a token for publishing with `poetry publish -r internal`
  lockstep.poetry.credentials:
    repository: internal
    token: "{{ vault_internal_publish_token }}"

- name: Get a CodeArtifact token on the controller
  lockstep.poetry.codeartifact_token:
    domain: acme
    domain_owner: "111122223333"
    region: eu-west-1
  delegate_to: localhost
  become: false
  no_log: true
  register: codeartifact

- name: Store it for the build user
  lockstep.poetry.credentials:
    repository: codeartifact
    username: aws
    password: "{{ codeartifact.token }}"
  become: true
  become_user: build

- name: Forget everything stored for a repository
  lockstep.poetry.credentials:
    repository: internal
    state: absent
"""

RETURN = r"""
path:
  description:
    - The C(auth.toml) file the module manages. Its C(owner), C(group), C(mode) and C(state) are
      returned beside it, as M(ansible.builtin.file) returns them.
  returned: always
  type: str
  sample: /home/deploy/.config/pypoetry/auth.toml
stored:
  description:
    - What C(auth.toml) holds for the repository after the task, with secrets replaced by
      C(********).
  returned: always
  type: dict
  sample:
    http-basic:
      username: deploy
      password: "********"
    certificates:
      cert: /etc/ssl/certs/internal-ca.pem
"""

import hmac
import os
import stat

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.lockstep.poetry.plugins.module_utils import _toml
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_config import auth_file, config_dir
from ansible_collections.lockstep.poetry.plugins.module_utils._secrets import REDACTED
from ansible_collections.lockstep.poetry.plugins.module_utils._toml import TomlError

# The tables of auth.toml that hold settings of a repository, keyed by its name.
SECTIONS = ("http-basic", "pypi-token", "certificates")
# Options whose values are secrets, by the TOML keys they go to (relative to the repository).
SECRET_KEYS = (("http-basic", "password"), ("pypi-token",))
# Modes that let anyone but the owner read or write the file.
GROUP_OTHER_BITS = stat.S_IRWXG | stat.S_IRWXO


class CredentialsError(TomlError):
    """Options that cannot be stored as given; a TomlError so that main() catches one type."""


def same(stored, wanted):
    """Equality that does not leak timing for strings (secrets are compared with it)."""
    if isinstance(stored, str) and isinstance(wanted, str):
        return hmac.compare_digest(stored.encode("utf-8"), wanted.encode("utf-8"))
    # False == 0 in Python, but not for Poetry's settings.
    return type(stored) is type(wanted) and stored == wanted


def repository_view(data, name):
    """The repository's settings as {(section, key...): value}, relative to the name."""
    view = {}
    for section in SECTIONS:
        value = _toml.get_path(data, [section, name])
        if isinstance(value, dict):
            for key, item in value.items():
                view[(section, key)] = item
        elif value is not None:
            view[(section,)] = value
    return view


def wanted_settings(params, stored):
    """The settings the task asks for, {(section, key...): value}, given the stored ones."""
    wanted = {}
    if params["username"] is not None:
        wanted[("http-basic", "username")] = params["username"]
        wanted[("http-basic", "password")] = params["password"]
    if params["token"] is not None:
        wanted[("pypi-token",)] = params["token"]
    if params["ca_cert"] is not None:
        wanted[("certificates", "cert")] = params["ca_cert"]
    elif params["validate_certs"] is False:
        wanted[("certificates", "cert")] = False
    if params["client_cert"] is not None:
        wanted[("certificates", "client-cert")] = params["client_cert"]
    if params["update_secret"] == "on_create":
        for keys in SECRET_KEYS:
            if keys in wanted and stored.get(keys):
                wanted[keys] = stored[keys]
    return wanted


def plan(params, stored):
    """What to change: ({keys: value} to set, [keys] to remove), both relative to the name."""
    if params["state"] == "absent":
        return {}, sorted(stored)
    wanted = wanted_settings(params, stored)
    updates = dict((keys, value) for keys, value in wanted.items()
                   if keys not in stored or not same(stored[keys], value))
    removals = []
    # validate_certs=true takes back a stored cert = false, and nothing else.
    if params["validate_certs"] and params["ca_cert"] is None and stored.get(("certificates", "cert")) is False:
        removals.append(("certificates", "cert"))
    return updates, removals


def masked(view, changed_secrets=()):
    """The view with secret values replaced by REDACTED, marked when they change."""
    shown = {}
    for keys, value in view.items():
        if keys in SECRET_KEYS and value is not None:
            value = REDACTED + (" (changed)" if keys in changed_secrets else "")
        shown[keys] = value
    return shown


def dotted(view):
    """{(section, key): value} as {"section.key": value}, for diffs."""
    return dict((".".join(keys), value) for keys, value in view.items())


def nested(view):
    """{(section, key): value} as {section: {key: value}}, for the module's result."""
    result = {}
    for keys, value in view.items():
        if len(keys) == 1:
            result[keys[0]] = value
        else:
            result.setdefault(keys[0], {})[keys[1]] = value
    return result


def check_options(module):
    params = module.params
    if params["state"] == "absent":
        return
    if all(params[option] is None for option in ("username", "token", "ca_cert", "validate_certs", "client_cert")):
        raise CredentialsError("Nothing to store for repository %s: give username and password, token, ca_cert, "
                               "validate_certs or client_cert" % params["repository"])
    if params["ca_cert"] is not None and params["validate_certs"] is False:
        raise CredentialsError("ca_cert and validate_certs=false contradict each other: give one of them")
    for option in ("ca_cert", "client_cert"):
        path = params[option]
        if path is None:
            continue
        if not os.path.isabs(path):
            raise CredentialsError("%s must be an absolute path (Poetry reads it from any directory); got %s"
                                   % (option, path))
        if not os.path.isfile(path):
            message = "%s %s does not exist on the host" % (option, path)
            if not module.check_mode:
                raise CredentialsError(message)
            module.warn(message + "; in check mode, an earlier task may not have created it yet")


def private_mode(path):
    """The mode the file should have: its own, without the group and other bits; None if absent."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None
    return mode & ~GROUP_OTHER_BITS


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repository=dict(type="str", required=True, aliases=["name"]),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            token=dict(type="str", no_log=True),
            update_secret=dict(type="str", choices=["always", "on_create"], default="always", no_log=False),
            ca_cert=dict(type="path", aliases=["cert"]),
            validate_certs=dict(type="bool"),
            client_cert=dict(type="path"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            config_dir=dict(type="path"),
        ),
        required_together=[("username", "password")],
        supports_check_mode=True,
    )
    if not _toml.HAS_TOMLKIT:
        module.fail_json(msg=missing_required_lib("tomlkit"), exception=_toml.TOMLKIT_IMPORT_ERROR)

    params = module.params
    name = params["repository"]
    path = auth_file(config_dir(params["config_dir"]))
    try:
        check_options(module)
        document = _toml.load_document(path, missing_ok=True)
        before = repository_view(_toml.unwrap(document), name)
        updates, removals = plan(params, before)
        for keys, value in updates.items():
            _toml.set_path(document, (keys[0], name) + keys[1:], value)
        for keys in removals:
            _toml.remove_path(document, (keys[0], name) + keys[1:])
        after = repository_view(_toml.unwrap(document), name)
        diff = dict(before_header=path, after_header=path,
                    before=dotted(masked(before)), after=dotted(masked(after, changed_secrets=updates)))
        changed = bool(updates or removals)
        mode = private_mode(path)
        if mode is not None:
            # The file holds secrets: whatever created it, nobody else may read it. Made private
            # before it is rewritten, so that the new secrets are never readable by others.
            changed = module.set_mode_if_different(path, mode, changed, diff=diff)
        if (updates or removals) and not module.check_mode:
            _toml.write_atomic(path, _toml.dumps(document), mode=0o600)
    except TomlError as error:
        module.fail_json(**error.to_fail_kwargs())

    module.exit_json(changed=changed, path=path, stored=nested(masked(after)), diff=diff)


if __name__ == "__main__":
    main()
