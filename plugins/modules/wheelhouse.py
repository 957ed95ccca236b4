#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: wheelhouse
short_description: Take the locked wheels of a Poetry project once, checked against the lock, for hosts without an index
version_added: 0.1.0
description:
  - Works out, from a project's C(pyproject.toml) and C(poetry.lock) alone, which locked
    distributions a kind of host installs (the selected dependency groups and extras, with the
    environment markers evaluated for that host's Python and platform), chooses for each the
    locked wheel that fits the host's wheel tags, downloads it from the index the lock names,
    checks that its sha256 is the one C(poetry.lock) gives it, and packs the wheels with a
    requirements file that pins each to that hash into one archive.
  - A host installs the archive with no route to any package index, no credentials and no
    Poetry, with C(pip install --no-index --require-hashes) and its requirements file, or as the
    role P(lockstep.poetry.app#role) does in its build-once mode (C(poetry_app_build_on)), which
    checks each wheel against the sha256 that C(wheelhouse.json) gives it and needs no pip.
  - An archive that is already there for the same lock, selection and host is not built again;
    the task then reports no change.
  - Needs no Poetry. The selection is read from the lock (lock formats of Poetry 1.8 and 2.x).
options:
  dest:
    description:
      - The archive to write (a tar file). Written in one rename, into its directory, which is
        made (mode C(0700)) when it is missing.
      - Name it after what decides its content (the app role uses its virtualenv key), so that
        hosts of one kind share it.
    type: path
    required: true
  target:
    description:
      - The Python and platform of the hosts that install the archive.
    type: dict
    required: true
    suboptions:
      python_version:
        description: Their Python's version, V(3.11) say.
        type: str
        required: true
      tags:
        description:
          - The wheel tags their Python installs, most specific first, as
            C(packaging.tags.sys_tags()) gives them on the host.
        type: list
        elements: str
        required: true
      marker_environment:
        description:
          - The environment their Python evaluates PEP 508 markers in, as
            C(packaging.markers.default_environment()) gives it on the host.
        type: dict
        required: true
      description:
        description: How messages name the hosts' kind (V(CPython 3.11 on x86_64, glibc 2.36)).
        type: str
  compile:
    description:
      - Also compile, once, the modules that the wheels install into site-packages to bytecode for
        the hosts, with a Python of the builder whose ABI is theirs (the Python that runs this
        module, or C(pythonX.Y) in E(PATH)), as checked hash-based C(.pyc) files (PEP 552), which
        are valid wherever the same source is installed, packed beside the wheels.
      - The role P(lockstep.poetry.app#role) installs them on a host whose Python has the same
        cache tag and magic number, instead of compiling each module there; any other host
        compiles its own. Without such a Python on the builder nothing is compiled, and RV(bytecode)
        is V(null).
      - The hosts run this bytecode as it is, so the role asks for it only when the builder is the
        controller, which runs the play anyway; the wheels themselves are checked against the
        lock's hashes on every host.
    type: bool
    default: false
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.idempotent
  - ansible.builtin.action_common_attributes
  - lockstep.poetry.poetry
  - lockstep.poetry.poetry.project
  - lockstep.poetry.poetry.groups
attributes:
  check_mode:
    support: full
    details:
      - Works out what the archive would hold and downloads nothing.
  diff_mode:
    support: none
notes:
  - The credentials of an index are Poetry's for the source the lock names
    (C(http-basic.<source>) in Poetry's C(auth.toml), or E(POETRY_HTTP_BASIC_<SOURCE>_USERNAME) and
    E(POETRY_HTTP_BASIC_<SOURCE>_PASSWORD) in O(env)); they never reach the archive.
  - A package of which the lock has no wheel that fits the hosts (an sdist only, or wheels for
    other Pythons or platforms) fails the task with its name; such a project is deployed by each
    host building its own environment.
  - O(executable) is accepted, as the other modules accept it, and not used.
seealso:
  - module: lockstep.poetry.verify
  - module: lockstep.poetry.export
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Take the wheels of the service's lock for Debian 12 hosts, on the controller
  lockstep.poetry.wheelhouse:
    project_path: "{{ playbook_dir }}/service"
    only: [main]
    dest: "{{ lookup('env', 'HOME') }}/.cache/service-py311.tar"
    target:
      python_version: "3.11"
      tags: "{{ host_tags }}"
      marker_environment: "{{ host_markers }}"
    env:
      POETRY_HTTP_BASIC_INTERNAL_USERNAME: deploy
      POETRY_HTTP_BASIC_INTERNAL_PASSWORD: "{{ vault_index_password }}"
  delegate_to: localhost
"""

RETURN = r"""
archive:
  description: The archive.
  returned: always
  type: str
  sample: /home/deploy/.cache/service-py311.tar
packages:
  description: The wheel of each locked distribution the hosts install.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "gunicorn", "version": "23.0.0", "file": "gunicorn-23.0.0-py3-none-any.whl"}]
lock_sha256:
  description: The sha256 of C(poetry.lock).
  returned: always
  type: str
built:
  description: Whether the archive was made by this task (false when it was there already).
  returned: always
  type: bool
bytecode:
  description:
    - With O(compile), the cache tag of the bytecode the archive holds (C(cpython-311)); V(null)
      when the builder has no Python that writes the hosts' bytecode, or without O(compile).
  returned: always
  type: str
  sample: cpython-311
"""

import fcntl
import json
import os
import shutil
import sys
import tarfile

from ansible_collections.lockstep.poetry.plugins.module_utils._export import GROUP_ARGUMENT_SPEC
from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._index import Index
from ansible_collections.lockstep.poetry.plugins.module_utils._install import SELECTION_MUTUALLY_EXCLUSIVE
from ansible_collections.lockstep.poetry.plugins.module_utils._publish import configuration_documents, repository_settings
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_module import PoetryModule
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PROJECT_ARGUMENT_SPEC, PoetryError, environment_option
from ansible_collections.lockstep.poetry.plugins.module_utils._wheel_files import MANIFEST
from ansible_collections.lockstep.poetry.plugins.module_utils._wheelhouse import (
    WheelhouseError, build, bytecode_python, choose, package_index, selected_packages)

TARGET_SPEC = dict(
    python_version=dict(type="str", required=True),
    tags=dict(type="list", elements="str", required=True),
    marker_environment=dict(type="dict", required=True),
    description=dict(type="str"),
)


def manifest_of(archive):
    """What an archive says it was built from; None when it is not there or not one of ours."""
    try:
        with tarfile.open(archive) as tar:
            member = tar.extractfile(MANIFEST)
            return json.loads(member.read().decode("utf-8")) if member else None
    except (OSError, tarfile.TarError, KeyError, ValueError):
        return None


def main():
    module = PoetryModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            target=dict(type="dict", required=True, options=TARGET_SPEC),
            compile=dict(type="bool", default=False),
            **dict(PROJECT_ARGUMENT_SPEC, **GROUP_ARGUMENT_SPEC)
        ),
        mutually_exclusive=SELECTION_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    params = module.params
    target = params["target"]
    archive = os.path.abspath(params["dest"])
    described = target["description"] or "Python %s" % target["python_version"]
    try:
        environ = dict(os.environ, **environment_option(params["env"]))
        project = params["project_path"]
        lock_path = os.path.join(project, "poetry.lock")
        if not os.path.isfile(lock_path):
            raise PoetryError("%s has no poetry.lock: build once ships exactly what a lock says" % project)
        selected = selected_packages(project, params, target["marker_environment"])
        chosen = choose(selected, target["tags"], described)
        # This module's own Python first, as it is the one most likely to be the hosts' kind.
        compiler = None
        if params["compile"]:
            compiler = bytecode_python(target["tags"], [sys.executable, shutil.which("python" + target["python_version"])])
        manifest = {
            "lock_sha256": file_digest(lock_path),
            "selection": {name: params[name] for name in GROUP_ARGUMENT_SPEC},
            "python_version": target["python_version"],
            "tags": target["tags"],
            "packages": [dict(entry, source=None) for entry in chosen],
            "bytecode": dict((name, compiler[name]) for name in ("cache_tag", "magic")) if compiler else None,
        }
        packages = [{"name": entry["name"], "version": entry["version"], "file": entry["file"]} for entry in chosen]
        result = {"archive": archive, "packages": packages, "lock_sha256": manifest["lock_sha256"], "built": False,
                  "bytecode": compiler and compiler["cache_tag"]}
        if manifest_of(archive) == manifest:
            module.exit_json(changed=False, **result)
        if module.check_mode:
            module.exit_json(changed=True, **result)
        documents = configuration_documents(project, environ)

        def open_index(source):
            url, name = package_index(source)
            settings = repository_settings(name, environ, documents) if name else {"auth": None, "tls": {}}
            return Index(url, settings["auth"], settings["tls"], name)

        os.makedirs(os.path.dirname(archive), 0o700, exist_ok=True)
        # Runs that need the same archive at once: the first builds, the others wait and find it built.
        with open(archive + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if manifest_of(archive) != manifest:
                build(chosen, open_index, archive, manifest, compiler and compiler["python"])
                result["built"] = True
        module.exit_json(changed=result["built"], **result)
    except (WheelhouseError, PoetryError) as error:
        module.fail_json(msg="Could not take the wheels for %s: %s" % (described, getattr(error, "msg", None) or error))


if __name__ == "__main__":
    main()
