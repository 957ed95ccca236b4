#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: publish
short_description: Build a Poetry project and publish it to a package repository once
version_added: 0.1.0
description:
  - Builds the project (C(poetry build)) into a scratch directory outside the project, reads
    the release (the project's name and version) from the repository's PEP 503 simple API,
    and uploads (C(poetry publish)) only the files the index does not have yet.
  - When the index already holds the release with files whose SHA-256 equal the ones just
    built, the task reports no change. When it holds the release with other bytes under the
    same name, the task fails and says which files differ, and uploads nothing, since an index
    must never serve two different files as one release.
  - Reruns of a release pipeline are safe; this needs builds that are reproducible, which
    Poetry's wheels are, and its sdists from Poetry 2 on (see the notes).
options:
  repository:
    description:
      - The repository to publish to, by the name Poetry knows it by.
      - Its upload URL is Poetry's C(repositories.<name>.url) setting (M(lockstep.poetry.config),
        or E(POETRY_REPOSITORIES_<NAME>_URL) in O(env)), unless O(url) gives it. V(pypi) is
        PyPI, whose URL is built into Poetry.
      - Credentials are Poetry's for that name, from its C(auth.toml)
        (M(lockstep.poetry.credentials)) or from E(POETRY_HTTP_BASIC_<NAME>_USERNAME) and
        E(POETRY_HTTP_BASIC_<NAME>_PASSWORD), or E(POETRY_PYPI_TOKEN_<NAME>), in O(env). The
        module reads the index with the same credentials Poetry uploads with; they never
        appear on a command line or in the task's result.
    type: str
    required: true
  url:
    description:
      - The repository's upload URL, when Poetry's configuration does not have one for
        O(repository). Handed to Poetry as E(POETRY_REPOSITORIES_<NAME>_URL), so that the
        credentials stay those of the name.
      - Must not embed credentials.
    type: str
  index_url:
    description:
      - The repository's PEP 503 simple API, where the module looks for the release.
      - Defaults to C(<upload URL>/simple/) (pypiserver, Nexus, Artifactory, GitLab, AWS
        CodeArtifact serve it there), or PyPI's and TestPyPI's own.
      - Must not embed credentials.
    type: str
  formats:
    description:
      - What to build and publish (C(poetry build --format)).
    type: list
    elements: str
    choices: [sdist, wheel]
    default: [sdist, wheel]
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.idempotent
  - lockstep.poetry.attributes.action_group
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - lockstep.poetry.poetry
  - lockstep.poetry.poetry.project
attributes:
  check_mode:
    support: full
    details:
      - Builds into a scratch directory outside the project and reads the index, as a real
        run does, then reports what would be uploaded (RV(uploaded)) without uploading. A
        release the index holds with other files fails in check mode too.
  diff_mode:
    support: full
    details:
      - The release's files on the index (file name to SHA-256) before and after.
notes:
  - The project's own C(dist) directory is neither read nor written; the files are built
    afresh on every run and uploaded from a scratch directory, so a stale file in C(dist)
    is never published.
  - C(poetry build) runs with E(POETRY_VIRTUALENVS_CREATE=false), so building never creates
    the project's virtualenv.
  - Poetry 1.8's sdists carry the modification times of the project's files, so an sdist
    rebuilt from another checkout of the same sources differs from the one on the index and
    the task fails. Publish wheels only (O(formats=[wheel])) with Poetry 1.8 when a release
    may be published again from another checkout; Poetry 2's sdists are reproducible.
  - Files of the release on the index that this build does not make (wheels for other
    platforms) are left alone.
  - Poetry uploads with its own HTTP stack; the module reads the index with Ansible's, using
    Poetry's C(certificates.<name>.cert) and C(certificates.<name>.client-cert) settings.
seealso:
  - module: lockstep.poetry.credentials
  - module: lockstep.poetry.config
  - name: Poetry's publish command
    description: How C(poetry publish) finds the repository and its credentials.
    link: https://python-poetry.org/docs/cli/#publish
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Publish the library to the private repository configured in Poetry
  lockstep.poetry.publish:
    project_path: /builds/corp-lib
    repository: private
    env:
      POETRY_HTTP_BASIC_PRIVATE_USERNAME: ci
      POETRY_HTTP_BASIC_PRIVATE_PASSWORD: "{{ vault_private_index_token }}"

- name: Publish wheels only, to a repository given by URL
  lockstep.poetry.publish:
    project_path: /builds/corp-lib
    repository: corp
    url: https://nexus.example.com/repository/pypi-internal/
    formats: [wheel]
    env: "{{ poetry_repositories_environment }}"

- name: What would a release upload?
  lockstep.poetry.publish:
    project_path: /builds/corp-lib
    repository: private
  check_mode: true
  register: release

- name: Show it
  ansible.builtin.debug:
    var: release.uploaded
"""

RETURN = r"""
name:
  description: The project's normalised name, as the index lists it.
  returned: success
  type: str
  sample: corp-lib
version:
  description: The version built.
  returned: success
  type: str
  sample: 1.4.0
repository:
  description: The repository's name.
  returned: success
  type: str
  sample: private
index_url:
  description: The simple API the release was looked up in.
  returned: success
  type: str
  sample: https://nexus.example.com/repository/pypi-internal/simple/
built:
  description: The files built, each with its SHA-256.
  returned: success
  type: list
  elements: dict
  contains:
    filename:
      description: The file's name.
      type: str
    sha256:
      description: The hex SHA-256 of its bytes.
      type: str
  sample:
    - {filename: corp_lib-1.4.0-py3-none-any.whl, sha256: 9f2c0e4d1b7a5c3e8f6d2a1b0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d}
uploaded:
  description: The files uploaded (in check mode, that would be). Empty when the index had them all.
  returned: success
  type: list
  elements: str
  sample: [corp_lib-1.4.0-py3-none-any.whl, corp_lib-1.4.0.tar.gz]
published:
  description: The built files the index already had, byte for byte.
  returned: success
  type: list
  elements: str
  sample: []
commands:
  description: The commands run, as argument lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/local/bin/poetry", "--no-interaction", "--no-ansi", "build", "--output", "/tmp/lockstep-poetry-publish-x1"]]
"""

import re

from ansible_collections.lockstep.poetry.plugins.module_utils._install import Project
from ansible_collections.lockstep.poetry.plugins.module_utils._publish import FORMATS, Publisher
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_module import PoetryModule, run_task
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PROJECT_ARGUMENT_SPEC
from ansible_collections.lockstep.poetry.plugins.module_utils._secrets import url_has_credentials, url_secrets


def main():
    module = PoetryModule(
        argument_spec=dict(
            repository=dict(type="str", required=True),
            url=dict(type="str"),
            index_url=dict(type="str"),
            formats=dict(type="list", elements="str", choices=list(FORMATS), default=list(FORMATS)),
            **PROJECT_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", params["repository"]):
        module.fail_json(msg="repository: %r is not a name Poetry can keep settings under (letters, digits, "
                             "'-' and '_'; give a URL with the url option)" % params["repository"])
    for option in ("url", "index_url"):
        module.no_log_values.update(url_secrets(params[option]))
        if url_has_credentials(params[option] or ""):
            module.fail_json(msg="%s must not embed credentials: give them to Poetry for repository '%s' "
                                 "(lockstep.poetry.credentials, or POETRY_HTTP_BASIC_<NAME>_USERNAME and "
                                 "_PASSWORD in env)" % (option, params["repository"]))
    if not params["formats"]:
        module.fail_json(msg="formats: name at least one of %s" % ", ".join(FORMATS))

    def task(runner):
        publisher = Publisher(runner, Project(params["project_path"]), params["repository"], url=params["url"],
                              index_url=params["index_url"], formats=params["formats"])
        return publisher.ensure(check_mode=module.check_mode)

    run_task(module, task)


if __name__ == "__main__":
    main()
