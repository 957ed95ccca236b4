#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: export
short_description: Write a requirements file from a Poetry project's lock
version_added: 0.1.0
description:
  - Exports the locked packages of the selected dependency groups and extras
    (C(poetry export)), with their hashes by default, and writes them to O(dest) when its
    content differs. For tools that read requirements files rather than Poetry's lock
    (container builds, platforms that install from C(requirements.txt)).
  - Never resolves dependencies. The project must have a C(poetry.lock) that is fresh for its
    C(pyproject.toml); create and refresh it with M(lockstep.poetry.lock).
  - Poetry 1.8 has the C(export) command built in. Poetry 2.x needs the plugin
    C(poetry-plugin-export) in its environment (the P(lockstep.poetry.poetry#role) role's
    C(poetry_plugins) variable installs it); without it the task fails and says so.
options:
  dest:
    description:
      - The requirements file to write. Replaced in one rename, so that readers never see part
        of it.
      - Its directory must exist.
    type: path
    required: true
  with_hashes:
    description:
      - Pin each package to the hashes of its locked files (C(--hash=sha256:...)), so that
        C(pip install --require-hashes) installs exactly the locked files.
      - V(false) is C(--without-hashes).
    type: bool
    default: true
  format:
    description:
      - C(requirements.txt) or C(constraints.txt) (C(--format)); a constraints file lists
        no extras and, in Poetry 2's plugin, no editable or path dependencies.
    type: str
    choices: [requirements.txt, constraints.txt]
    default: requirements.txt
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.idempotent
  - lockstep.poetry.attributes.action_group
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.files
  - lockstep.poetry.poetry
  - lockstep.poetry.poetry.project
  - lockstep.poetry.poetry.groups
attributes:
  check_mode:
    support: full
    details:
      - Poetry exports into a scratch file outside the project; O(dest) and its attributes are
        compared, not written.
  diff_mode:
    support: full
    details:
      - The file's content before and after, and its attributes when they change.
  safe_file_operations:
    description: Uses Ansible's strict file operation functions to ensure proper permissions and avoid data corruption.
    support: full
notes:
  - Without a selection, C(poetry export) takes the main dependencies only (not the C(dev)
    group, unlike C(poetry install)); name other groups with O(with_groups) or O(only).
  - The file is written exactly as C(poetry export --output) writes it; the task reports a
    change only when its bytes or its attributes change.
  - Hashes come from the lock, so a requirements file with hashes changes when the lock does,
    even when the versions stay the same.
  - A project may declare the Poetry plugins it needs (C([tool.poetry.requires-plugins]), Poetry
    2.x). Exporting neither needs nor installs them and leaves the project as it is; Poetry
    installs them into the project's C(.poetry/plugins) only when it installs the project
    (M(lockstep.poetry.install)), and loads them from there for every command. A project that
    requires C(poetry-plugin-export) itself can therefore be exported by a Poetry without the
    plugin once the project is installed; before that, the task fails and says so.
seealso:
  - module: lockstep.poetry.lock
  - module: lockstep.poetry.install
  - name: poetry-plugin-export
    description: The C(export) command's options and what the exported file holds.
    link: https://github.com/python-poetry/poetry-plugin-export
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Requirements of the production dependencies, with hashes, for the container build
  lockstep.poetry.export:
    project_path: /builds/app
    dest: /builds/app/requirements.txt
    only: [main]
    mode: "0644"

- name: Development requirements without hashes, with every extra
  lockstep.poetry.export:
    project_path: /builds/app
    dest: /builds/app/requirements-dev.txt
    with_groups: [docs]
    all_extras: true
    with_hashes: false

- name: Would the requirements file change?
  lockstep.poetry.export:
    project_path: /builds/app
    dest: /builds/app/requirements.txt
    only: [main]
  check_mode: true
  diff: true
  register: requirements
"""

RETURN = r"""
dest:
  description: The file written (or compared, in check mode).
  returned: success
  type: str
  sample: /builds/app/requirements.txt
checksum:
  description: SHA-256 of the exported content.
  returned: success
  type: str
  sample: sha256:9f2c0e4d1b7a5c3e8f6d2a1b0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d
lock_hash:
  description: SHA-256 of C(poetry.lock)'s bytes, the lock the file was exported from.
  returned: success
  type: str
  sample: sha256:0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d9f2c0e4d1b7a5c3e8f6d2a1b
commands:
  description: The commands run, as argument lists.
  returned: always
  type: list
  elements: list
  sample: [["/usr/local/bin/poetry", "--no-interaction", "--no-ansi", "export", "--format=requirements.txt",
            "--output=/tmp/lockstep-poetry-export-x1/requirements.txt", "--only=main"]]
"""

import os
import tempfile

from ansible_collections.lockstep.poetry.plugins.module_utils._export import FORMATS, GROUP_ARGUMENT_SPEC, export_text
from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import text_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._install import SELECTION_MUTUALLY_EXCLUSIVE, Project
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_module import PoetryModule, run_task
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PROJECT_ARGUMENT_SPEC, PoetryError


def read_text(path):
    """The file's text, None when there is none; PoetryError when dest cannot be a file."""
    if os.path.isdir(path):
        raise PoetryError("dest %s is a directory: give the path of the requirements file" % path)
    if not os.path.isdir(os.path.dirname(path)):
        raise PoetryError("dest %s: the directory %s does not exist" % (path, os.path.dirname(path)))
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise PoetryError("cannot read dest %s: %s" % (path, error))


def write_text(module, path, text):
    """Replace the file at path with text in one rename (AnsibleModule.atomic_move keeps an
    existing file's owner, group, mode and SELinux context)."""
    handle, temporary = tempfile.mkstemp(prefix=".lockstep-poetry-export-", dir=module.tmpdir)
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
        stream.write(text)
    module.atomic_move(temporary, path, unsafe_writes=module.params["unsafe_writes"])


def main():
    module = PoetryModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            with_hashes=dict(type="bool", default=True),
            format=dict(type="str", default=FORMATS[0], choices=list(FORMATS)),
            **dict(PROJECT_ARGUMENT_SPEC, **GROUP_ARGUMENT_SPEC)
        ),
        mutually_exclusive=SELECTION_MUTUALLY_EXCLUSIVE,
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    dest = os.path.abspath(params["dest"])

    def task(runner):
        project = Project(params["project_path"])
        before = read_text(dest)
        after = export_text(runner, project, params, params["with_hashes"], params["format"])
        changed = after != before
        if changed and not module.check_mode:
            write_text(module, dest, after)
        diff = [{"before": before or "", "after": after, "before_header": dest, "after_header": dest}]
        attributes = {"before": {}, "after": {}}
        if before is not None or not module.check_mode:
            file_args = module.load_file_common_arguments(params, path=dest)
            changed = module.set_fs_attributes_if_different(file_args, changed, diff=attributes)
        if attributes["before"] or attributes["after"]:
            diff.append(attributes)
        return {"changed": changed, "dest": dest, "checksum": "sha256:" + text_digest(after, "sha256"),
                "lock_hash": project.lock_hash(), "diff": diff}

    run_task(module, task)


if __name__ == "__main__":
    main()
