#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: app_inspect
short_description: Read what a host has of an application deployed by lockstep.poetry.app
version_added: 0.1.0
description:
  - Looks once at the host, read-only, and reports what a deploy of the M(lockstep.poetry.app)
    role starts from. The accounts, the Python for virtualenvs, the layout under O(root)
    (the current release, every release and the virtualenv it links to, the virtualenvs
    marked ready), the service's environment file and unit, and the state of the service.
  - With O(source), also identifies on the controller the release that the source holds, as the
    role names it. A directory is packed reproducibly into the controller user's cache
    (C(~/.cache/lockstep.poetry.app)) and named after the checksum of its content. An archive is
    named after its own checksum. A git source is named on the host once fetched, so
    RV(release) is V(null) for it.
  - The M(lockstep.poetry.app) role runs it first, so that a deploy with nothing to do costs one
    look at the host. It is also a quick way to ask a fleet which release each host runs.
  - Runs the inspection with O(python) directly, without a module's wrapper, isolated from the
    environment and from site-packages. It needs only Python's standard library on the host.
  - This is an action plugin; the module file only holds its documentation.
options:
  python:
    description:
      - The Python on the host that runs the inspection, the one the role builds virtualenvs
        with (C(poetry_app_python)). RV(host.python) and RV(host.python_version) describe it.
    type: str
    required: true
  root:
    description: The application's directory (C(poetry_app_root)).
    type: str
    required: true
  user:
    description: The user that owns the application's files (C(poetry_app_user)).
    type: str
    required: true
  group:
    description: The group of the application's files (C(poetry_app_group)).
    type: str
    required: true
  require_user:
    description:
      - Whether the task fails when O(user) does not exist on the host. The role sets it to
        V(false) when it creates the user.
    type: bool
    default: true
  directories:
    description:
      - Directories that must be directories owned by O(user) and O(group) with mode C(0755);
        RV(host.directories_to_fix) lists those that are not.
      - By default O(root) and its C(releases) and C(venvs) directories.
    type: list
    elements: str
  service:
    description:
      - The systemd unit of the application, without C(.service). Empty for an application that
        systemd does not run; RV(host.service) is then V(null).
    type: str
    default: ""
  env_file:
    description: The service's environment file. By default C(app.env) in O(root).
    type: str
  unit_file:
    description:
      - The service's unit file. By default C(/etc/systemd/system/<service>.service), none
        without O(service).
    type: str
  restart_marker:
    description:
      - The file that marks a restart still due. By default C(.restart-needed) in O(root).
    type: str
  source:
    description:
      - The release's source, as the role's C(poetry_app_source) takes it.
    type: dict
    suboptions:
      type:
        description:
          - V(copy) a project directory on the controller, V(archive) a tar or zip archive on the
            controller, V(git) a repository the host fetches (named once fetched).
        type: str
        required: true
        choices: [copy, archive, git]
      path:
        description:
          - The directory (V(copy), relative to the playbook) or the archive (V(archive), looked
            up as M(lockstep.poetry.app_release) looks up its
            O(lockstep.poetry.app_release#module:src)). Required for both.
        type: path
      repo:
        description: The repository URL (V(git)). Required for V(git).
        type: str
      version:
        description: Branch, tag or commit (V(git)).
        type: str
        default: HEAD
      excludes:
        description: More patterns left out of a V(copy) source.
        type: list
        elements: str
        default: []
      strip_components:
        description: Leading path components the archive's names lose when it is unpacked (V(archive)).
        type: int
        default: 0
  excludes:
    description:
      - Names and paths left out of a copy source, on top of the source's own C(excludes) and of
        version control data (always left out).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: It never changes anything on the host; RV(check_mode) says whether the task runs in check mode.
  diff_mode:
    support: none
  idempotent:
    description: It only reads.
    support: full
  platform:
    platforms: posix
notes:
  - A copy source is packed on every run to find out its checksum; unchanged content is not
    written again.
seealso:
  - module: lockstep.poetry.app_release
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Ask which release of shopfront each host runs
  lockstep.poetry.app_inspect:
    python: /usr/bin/python3
    root: /srv/shopfront
    user: shopfront
    group: shopfront
    service: shopfront
  register: shopfront

- name: Report it
  ansible.builtin.debug:
    msg: >-
      {{ shopfront.host.current_release or 'no release' }}, service
      {{ 'active' if shopfront.host.service.active else 'inactive' }}

- name: Name the release that a project directory holds
  lockstep.poetry.app_inspect:
    python: /usr/bin/python3
    root: /srv/shopfront
    user: shopfront
    group: shopfront
    source: {type: copy, path: ../shopfront}
  register: shopfront
  check_mode: true
"""

RETURN = r"""
check_mode:
  description: Whether the task ran in check mode (set for the task or the play, or C(--check)).
  returned: success
  type: bool
host:
  description: What the host has.
  returned: success
  type: dict
  contains:
    user:
      description: The user the inspection ran as.
      type: str
      sample: root
    app_user_exists:
      description: Whether O(user) exists.
      type: bool
    app_group_exists:
      description: Whether O(group) exists.
      type: bool
    python:
      description: The path of O(python), as Python reports it.
      type: str
      sample: /usr/bin/python3
    python_version:
      description: Its version, major and minor.
      type: str
      sample: "3.11"
    git:
      description: Whether C(git) is installed.
      type: bool
    directories_to_fix:
      description: Those of O(directories) that are not directories of O(user) and O(group) with mode C(0755).
      type: list
      elements: str
    current_release:
      description: The release the C(current) link in O(root) points to, empty without one.
      type: str
      sample: 3f9c2a71d0be
    releases:
      description:
        - The releases under C(releases/), each with C(mtime) (when it was deployed, in seconds
          since the epoch) and C(venv), the virtualenv it links to (V(null) for a release whose
          staging did not complete).
      type: dict
      sample: {"3f9c2a71d0be": {"mtime": 1764680000.0, "venv": "py3.11-0b8e5d1c2f3a"}}
    venvs:
      description:
        - The virtualenvs under C(venvs/), each with what its marker says it was built from
          (C(lock_sha1), C(pyproject_sha1), C(python), C(python_version), the groups and extras),
          or V(null) for one that was never marked ready.
      type: dict
    files:
      description:
        - The managed files, C(env) and C(unit), each V(null) when absent or with its C(type),
          C(owner), C(group), C(mode), and C(sha1) for a regular file; and C(restart_marker),
          whether a restart is still due.
      type: dict
    service:
      description: Whether the service is C(active) and C(enabled); V(null) without O(service) or without systemd.
      type: dict
      sample: {"active": true, "enabled": true}
release:
  description: The release that O(source) holds; V(null) without O(source) and for a git source.
  returned: success
  type: dict
  contains:
    id:
      description: The release id.
      type: str
      sample: 3f9c2a71d0be
    checksums:
      description:
        - SHA-1 of the source's C(pyproject.toml) and C(poetry.lock) (V(null) for a file it lacks),
          for a directory; V(null) for an archive, whose files are known once it is unpacked.
      type: dict
      sample: {"pyproject.toml": "0f6b...", "poetry.lock": "9a1c..."}
    archive:
      description:
        - The archive to unpack with M(lockstep.poetry.app_release), as its C(src), C(remote_src)
          and C(strip_components).
      type: dict
"""
