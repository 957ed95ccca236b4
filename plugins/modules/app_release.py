#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: app_release
short_description: Unpack an application release into a directory of its own, atomically
version_added: 0.1.0
description:
  - Unpacks a tar archive (plain, gzip, bzip2 or xz) or a zip archive into a new release
    directory, the way M(lockstep.poetry.app) lays releases out. The files are extracted into a
    hidden directory beside O(dest), links are made and ownership set there, and the whole is
    renamed to O(dest). O(dest) therefore either holds the complete release or does not exist,
    whatever interrupts the task.
  - Refuses archives that would write outside O(dest) (absolute names, C(..), links that point
    outside the release) and special files (devices, FIFOs). Modes lose their setuid, setgid and
    sticky bits and group and other write permission.
  - Reports the SHA-1 checksums of files of the release that the caller names in O(checksums),
    for example C(pyproject.toml) and C(poetry.lock), without another task.
  - The M(lockstep.poetry.app) role stages each release beside the running one with it.
  - Takes an archive from the controller (the action plugin transfers it once, in the same task)
    or one already on the host (O(remote_src=true)), and needs nothing on the host beyond Python,
    no C(tar), C(unzip) or C(gtar).
options:
  src:
    description:
      - The archive. On the controller (a relative path is looked up in the role's or the
        playbook's C(files/) directory, as M(ansible.builtin.copy) does), or on the host with
        O(remote_src=true).
    type: path
    required: true
  remote_src:
    description: Whether O(src) is on the host instead of the controller.
    type: bool
    default: false
  dest:
    description:
      - The release directory to create. Its parent directory must exist.
      - Created with mode C(0755).
    type: path
    required: true
  strip_components:
    description:
      - Leading path components removed from every name in the archive, as C(tar
        --strip-components) does; entries with no more components than that are skipped. For
        example V(1) for an archive whose files are under C(myapp-1.0/).
    type: int
    default: 0
  owner:
    description: Owner of O(dest) and everything in it. By default the user the task runs as.
    type: str
  group:
    description: Group of O(dest) and everything in it. By default the group of that user.
    type: str
  links:
    description:
      - Symbolic links made in the release after unpacking, replacing whatever the archive ships
        at those paths (the shared directories of an application, for example). Missing parent
        directories are created.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Where the link goes, relative to O(dest), without C(..).
        type: str
        required: true
      target:
        description: What the link points to, as C(ln -s) takes it (relative paths are relative to the link's directory).
        type: str
        required: true
  checksums:
    description:
      - Files of the release, relative to O(dest), whose SHA-1 checksums RV(checksums) reports.
    type: list
    elements: str
    default: []
  force:
    description:
      - Whether an existing O(dest) is replaced by a fresh unpack (an earlier release that was
        never completed, for example). Without it, an existing O(dest) is left as it is and only
        its checksums are read.
    type: bool
    default: false
  python:
    description:
      - A Python 3 on the host that unpacks the release directly, as a script needing only the
        standard library, run isolated and without site-packages, instead of the module running
        inside the wrapper of a module run (which costs a third of a second or more per task on
        ansible-core 2.19). The result, check mode and the checks of the archive are the same.
      - The M(lockstep.poetry.app) role passes the Python it inspected the host with.
      - By default the module runs as any module does, with the host's Python interpreter as
        Ansible finds it.
    type: str
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.action_plugin
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details:
      - The archive is transferred to the task's temporary directory and read, so the change and
        RV(checksums) are those of a real run, but nothing is written under the parent of O(dest).
  diff_mode:
    support: partial
    details: Whether O(dest) exists before and after, and how many entries the archive has.
  idempotent:
    description: Run again, an existing O(dest) is left alone unless O(force=true).
    support: full
notes:
  - An archive from the controller is transferred on every run, also when O(dest) exists and is
    left alone; guard the task with a condition where that matters (the M(lockstep.poetry.app)
    role calls it only for a release it has to unpack).
  - Hard links in a tar archive are extracted as hard links when their target is part of the
    release, and refused otherwise. Symbolic links in a zip archive are extracted as regular
    files, as Python's zipfile does.
  - Files keep the modification times of the archive; the release directory itself gets the time
    of the unpack, so that releases sort by when they were deployed.
seealso:
  - module: ansible.builtin.unarchive
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Unpack release 1.4.2 beside the running one
  lockstep.poetry.app_release:
    src: dist/shopfront-1.4.2.tar.gz
    dest: /srv/shopfront/releases/1.4.2
    strip_components: 1
    owner: shopfront
    group: shopfront
    links:
      - {path: media, target: ../../shared/media}
    checksums: [pyproject.toml, poetry.lock]
  register: release

- name: Refuse a release without a lock
  ansible.builtin.assert:
    that: release.checksums['poetry.lock'] is not none
    fail_msg: The release has no poetry.lock.
"""

RETURN = r"""
dest:
  description: The release directory.
  returned: always
  type: str
  sample: /srv/shopfront/releases/1.4.2
checksums:
  description: SHA-1 of each file named in O(checksums), or V(null) for one the release does not have.
  returned: always
  type: dict
  sample: {"pyproject.toml": "2c1743a391305fbf367df8e4f069f9f9e1cd5c7a", "poetry.lock": null}
entries:
  description: How many entries of the archive were unpacked (after O(strip_components)); V(0) when O(dest) was left alone.
  returned: always
  type: int
  sample: 57
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.lockstep.poetry.plugins.module_utils._release import ARGUMENT_SPEC, ReleaseError, run


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run(module.params, module.check_mode)
    except ReleaseError as error:
        module.fail_json(msg=to_native(error.msg), **error.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
