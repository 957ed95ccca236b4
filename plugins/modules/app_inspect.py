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
  - With O(plan), the settings of the M(lockstep.poetry.app) role, it also plans the deploy;
    RV(plan) says what a deploy would do from what the host has. The role runs it first, so that
    a deploy with nothing to do costs one look at the host, and reads every decision from
    RV(plan). Asked again with O(inspection) and what the deploy learned since (O(commit),
    O(checksums)), it plans again without looking at the host.
  - It is also a quick way to ask a fleet which release each host runs.
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
      - By default O(root) and its C(releases) and C(venvs) directories. With O(plan), those and
        the shared paths, as the role lays them out; this option is then ignored.
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
  plan:
    description:
      - The settings of a deploy by the M(lockstep.poetry.app) role, its variables without their
        C(poetry_app_) prefix (see the role's documentation for each); with them the result has
        RV(plan). O(service), O(env_file), O(unit_file), O(restart_marker) and O(directories)
        are then taken from them and the role's layout.
      - Checked first, before the host is looked at; the task fails with every problem found.
      - In check mode, or for a git source, the inspection also makes scratch space on the host
        (RV(host.scratch)); the task that uses it removes it.
    type: dict
    suboptions:
      name:
        description: C(poetry_app_name).
        type: str
        required: true
      create_user:
        description: C(poetry_app_create_user).
        type: bool
        default: true
      service_manager:
        description: C(poetry_app_service_manager).
        type: str
        choices: [systemd, none]
        default: systemd
      service_name:
        description: C(poetry_app_service_name); by default O(plan.name).
        type: str
      command:
        description: C(poetry_app_command), a string or a list.
        type: raw
        default: ""
      env_content:
        description:
          - The service's environment file as the role renders it. Only its checksum is compared
            with the host's file; it is never returned.
        type: str
        default: ""
      restart_policy:
        description: C(poetry_app_restart_policy).
        type: str
        default: on-failure
      unit_options:
        description: C(poetry_app_unit_options).
        type: dict
        default: {}
      healthcheck_url:
        description: C(poetry_app_healthcheck_url).
        type: str
        default: ""
      healthcheck_command:
        description: C(poetry_app_healthcheck_command).
        type: raw
        default: []
      only:
        description: C(poetry_app_only).
        type: list
        elements: str
        default: [main]
      with:
        description: C(poetry_app_with).
        type: list
        elements: str
        default: []
      without:
        description: C(poetry_app_without).
        type: list
        elements: str
        default: []
      extras:
        description: C(poetry_app_extras).
        type: list
        elements: str
        default: []
      all_extras:
        description: C(poetry_app_all_extras).
        type: bool
        default: false
      root_install:
        description: C(poetry_app_root_install).
        type: bool
        default: false
      keep_releases:
        description: C(poetry_app_keep_releases).
        type: int
        default: 5
      shared_paths:
        description: C(poetry_app_shared_paths).
        type: list
        elements: str
        default: []
      rollback_to:
        description:
          - C(poetry_app_rollback_to). With it, the plan switches to a release the host keeps and
            O(source) is not read.
        type: str
        default: ""
      keep_failed_releases:
        description: C(poetry_app_keep_failed_releases).
        type: bool
        default: false
      break_lock:
        description: C(poetry_app_break_lock).
        type: bool
        default: false
      build_on:
        description: C(poetry_app_build_on).
        type: str
        default: host
      build_cache:
        description: C(poetry_app_build_cache).
        type: str
        default: ""
      verify:
        description:
          - C(poetry_app_verify). With it, RV(plan) says whether the ready virtualenv that the
            release keeps is checked against its lock first.
        type: bool
        default: false
      compile:
        description:
          - C(poetry_app_compile). Built once on the controller, RV(plan) then says that the
            controller compiles the modules once for the hosts.
        type: bool
        default: true
  inspection:
    description:
      - A previous result of this task, to plan again from what it found (RV(host) and
        RV(release)) without looking at the host or the source. Needs O(plan).
    type: dict
  commit:
    description:
      - With O(inspection), the commit that a git source fetched, which names the release, exported
        into scratch space.
    type: str
  checksums:
    description:
      - With O(inspection), the SHA-1 of the release's C(pyproject.toml) and C(poetry.lock) once
        it is unpacked (as M(lockstep.poetry.app_release) returns them).
    type: dict
  locks:
    description:
      - With O(plan), the text of the current release's C(poetry.lock) (C(before), empty on a
        host without a release) and of the new release's (C(after)). C(packages) in
        RV(plan.deployment) then says what the release changes in the locked packages, the diff
        shows it (one line per package, C(name==version)), and the task reports a change when the
        release changes any. The role
        compares them in check mode and with C(--diff).
    type: dict
    suboptions:
      before:
        description: The current release's C(poetry.lock).
        type: str
        default: ""
      after:
        description: The new release's C(poetry.lock).
        type: str
        required: true
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.action_plugin
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: It never changes anything on the host; RV(check_mode) says whether the task runs in check mode.
  diff_mode:
    support: partial
    details: With O(locks), the diff is what the release changes in the locked packages.
  idempotent:
    description: It only reads.
    support: full
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
diff_mode:
  description: Whether the task ran with diff mode (set for the task or the play, or C(--diff)).
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
        - The releases under C(releases/), each with C(mtime) (when it was last switched to, in
          seconds since the epoch), C(venv), the virtualenv it links to (V(null) for a release
          whose staging did not complete), and C(failed), whether it was kept after it failed its
          health check.
      type: dict
      sample: {"3f9c2a71d0be": {"mtime": 1764680000.0, "venv": "py3.11-0b8e5d1c2f3a", "failed": false}}
    venvs:
      description:
        - The virtualenvs under C(venvs/), each with what its marker says it was built from
          (C(lock_sha1), C(pyproject_sha1), C(python), C(python_version), the groups and extras),
          or V(null) for one that was never marked ready.
      type: dict
    files:
      description:
        - The managed files, C(env) and C(unit) (without O(plan); with it, C(unit) is V(null)),
          each V(null) when absent or with its C(type), C(owner), C(group), C(mode), and C(sha1)
          for a regular file; C(units), the same for each unit file of the application's
          services (with O(plan)) and of those the role recorded writing; C(unit_manifest), that
          record (V(null) without one); and C(restart_marker), whether a restart is still due.
      type: dict
    service:
      description: Whether the service is C(active) and C(enabled); V(null) without O(service) or without systemd.
      type: dict
      sample: {"active": true, "enabled": true}
    units:
      description:
        - Whether each unit file of RV(host.files) (and the unit of O(service)) is C(active) and
          C(enabled), by its file name; V(null) without systemd.
      type: dict
      sample: {"shopfront-web.service": {"active": true, "enabled": true}}
    scratch:
      description: Scratch space made on the host for a deploy (see O(plan)); V(null) when none was made.
      type: str
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
plan:
  description:
    - What a deploy with the settings of O(plan) does from here, as the role reads it. The fields
      the role uses are described here; each decides one step and is documented with the planner
      (C(plugins/plugin_utils/_app_plan.py)), which is private to the collection.
    - Fields that depend on what is not known yet are V(null) until the plan is asked again with
      O(inspection). They are RV(plan.release) for a git source not fetched yet, and RV(plan.venv)
      for a release whose lock is known only once unpacked.
  returned: when O(plan) is given
  type: dict
  contains:
    idle:
      description: Whether there is nothing to do.
      type: bool
    layout:
      description: The application's paths (C(root), C(releases), C(venvs), C(shared), C(current), C(env_file), C(unit_file) and more).
      type: dict
    release:
      description:
        - The release to deploy, with its C(id), its directory C(dir), the directory it is staged in
          (C(project_dir), scratch space in check mode), whether it is to be unpacked (C(unpack)) and switched to
          (C(switch)), and the project files it lacks (C(missing)).
      type: dict
    venv:
      description: The virtualenv of the release, its C(key), C(dir), whether to C(build) it and the C(record) written into it once ready.
      type: dict
    files_to_write:
      description: The managed files that differ from the host's, C(env) and unit files by name.
      type: list
      elements: str
    units:
      description: The unit files of the application's services, by name, with their content.
      type: dict
    service:
      description:
        - What systemd does, when it runs the services (C(manage)). C(units), each unit to start,
          restart or stop, in order, as C(unit), C(state) and C(enabled). C(daemon_reload),
          whether to reload systemd's configuration first. C(rollback), the units to restart or
          stop after a failed activation. C(retire), the units of services no longer deployed
          (C(units), C(files)) and the record of units before and after (C(record_before),
          C(record_after)).
      type: dict
    precheck:
      description:
        - The release checked before it takes traffic, when a service listens where the health
          check URL points (V(null) otherwise). The C(service) checked, the candidate's C(units),
          the C(socket) it listens on, and the arguments of the switch of the link C(candidate)
          (C(link), C(unlink)).
      type: dict
    links:
      description: The links to switch, each with its C(path), new C(target) and C(previous) target.
      type: list
      elements: dict
    restart:
      description: Whether the service restarts.
      type: bool
    prune:
      description: The releases and virtualenvs to remove.
      type: list
      elements: str
    deployment:
      description:
        - The report of the deploy, as the role sets C(poetry_app_deployment) from it. With
          O(locks), C(packages) says what the release changes in the locked packages, in C(add) and
          C(remove) (each a mapping of name to version) and C(upgrade) and C(downgrade) (each a
          mapping of name to the versions from and to).
      type: dict
"""
