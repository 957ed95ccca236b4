#!/usr/bin/python
# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: source
short_description: Declare a package source in a Poetry project's pyproject.toml
version_added: 0.1.0
description:
  - Adds, updates or removes one C([[tool.poetry.source]]) entry of a project's C(pyproject.toml),
    as C(poetry source add) and C(poetry source remove) do, without running Poetry.
  - Edits the file in place, keeping its comments, order and layout, and writes it atomically, only
    when the entry differs from what is wanted.
  - Works with the project layouts of Poetry 1.8 (everything under C([tool.poetry])) and Poetry 2
    (C([project]) with or without a C([tool.poetry]) table); sources live in C([tool.poetry.source])
    in both. An inline array of sources (C(source = [...]) in C([tool.poetry])) stays inline.
  - B(Changing sources makes the lock stale.) C(poetry.lock) records a hash of the sources with the
    dependencies, so after a change C(poetry install) refuses the lock until C(poetry lock) runs.
    The module returns RV(lock_stale); run M(lockstep.poetry.lock) after it, on a development host,
    and commit both files. On a deploy host, declare sources in the project instead, and give
    hosts credentials only.
extends_documentation_fragment:
  - lockstep.poetry.attributes
  - lockstep.poetry.attributes.idempotent
  - ansible.builtin.action_common_attributes
  - lockstep.poetry.poetry.project
options:
  name:
    description:
      - The name of the source. Poetry compares names case-insensitively; the module does too, and
        keeps the spelling already in the file.
      - C(PyPI) (any case) is Poetry's built-in source; it has no URL and is written as C(PyPI).
        Declaring it with a priority is how a project keeps PyPI next to a primary source.
    type: str
    required: true
  url:
    description:
      - The source's simple index URL, for example C(https://pypi.example.org/simple/).
      - Required to add a source other than PyPI; when not given, an existing source keeps its URL.
      - Must not embed credentials (C(https://user:password@host/)), because C(pyproject.toml) and
        C(poetry.lock) are committed and copied around. Give credentials to Poetry with
        C(lockstep.poetry.credentials) or E(POETRY_HTTP_BASIC_<NAME>_USERNAME) and
        E(POETRY_HTTP_BASIC_<NAME>_PASSWORD).
      - Not allowed for PyPI.
    type: str
  priority:
    description:
      - V(primary) sources are searched first, in the order of the file; declaring any primary source
        turns the implicit PyPI off. V(supplemental) sources are searched only for packages the
        primary ones do not have. V(explicit) sources are searched only for packages whose
        dependency names the source.
      - V(default) and V(secondary) are the priorities of Poetry before 1.5. Poetry 1.8 still accepts
        them with a deprecation warning; Poetry 2 refuses the project. The module writes them (and
        warns) for projects that must stay on Poetry 1.8.
      - When not given, a new source gets V(primary) (as C(poetry source add) does) and an existing
        one keeps its priority. A source without a C(priority) key counts as V(primary) (or as its
        deprecated C(default = true) / C(secondary = true) key says), so spelling out the same
        priority changes nothing.
    type: str
    choices: [primary, supplemental, explicit, default, secondary]
  state:
    description:
      - V(present) declares the source; V(absent) removes it (and C(source) itself when no source is
        left).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Reports the change, the diff and RV(lock_stale) without writing.
  diff_mode:
    support: full
    details: The text of C(pyproject.toml) before and after.
notes:
  - Other keys of an entry (C(links), C(indexed)) are kept.
  - The file keeps its mode and owner.
requirements:
  - tomlkit 0.6.0 or newer on the target host (C(python3-tomlkit) on Debian).
seealso:
  - module: lockstep.poetry.lock
  - module: lockstep.poetry.config
  - name: Poetry package sources
    description: Priorities and how Poetry searches sources.
    link: https://python-poetry.org/docs/repositories/#package-sources
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Resolve everything from the company index (PyPI off)
  lockstep.poetry.source:
    project_path: /home/dev/src/app
    name: internal
    url: https://pypi.example.org/simple/
    priority: primary
  register: internal_source

- name: Lock again when the sources changed
  lockstep.poetry.lock:
    project_path: /home/dev/src/app
  when: internal_source.lock_stale

- name: Keep PyPI for what the company index does not have
  lockstep.poetry.source:
    project_path: /home/dev/src/app
    name: PyPI
    priority: supplemental

- name: A source only for the packages that name it
  lockstep.poetry.source:
    project_path: /home/dev/src/app
    name: pytorch-cpu
    url: https://download.pytorch.org/whl/cpu
    priority: explicit

- name: Drop a source
  lockstep.poetry.source:
    project_path: /home/dev/src/app
    name: old-mirror
    state: absent
"""

RETURN = r"""
path:
  description: The project's C(pyproject.toml).
  returned: always
  type: str
  sample: /home/dev/src/app/pyproject.toml
source:
  description: The source's entry after the task, as written; V(null) when absent.
  returned: always
  type: dict
  sample: {"name": "internal", "url": "https://pypi.example.org/simple/", "priority": "primary"}
sources:
  description: The names of every declared source after the task, in the file's order.
  returned: always
  type: list
  elements: str
  sample: [internal, PyPI]
lock_stale:
  description:
    - Whether the task changed the sources of a project that has a C(poetry.lock), which is then
      stale (its content hash covers the sources) until C(poetry lock) runs. In check mode, whether
      it would be.
    - V(false) when nothing changed; that does not say the lock is fresh (M(lockstep.poetry.info)
      does).
  returned: always
  type: bool
  sample: true
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.lockstep.poetry.plugins.module_utils import _poetry_config, _secrets, _toml

PYPI = "PyPI"
DEPRECATED_PRIORITIES = ("default", "secondary")


class SourceError(_toml.TomlError):
    """A source that cannot be declared as asked."""


def effective_priority(entry):
    """The priority Poetry gives an entry: its priority key, else the pre-1.5 flags, else primary."""
    if "priority" in entry:
        return str(entry["priority"])
    for flag in DEPRECATED_PRIORITIES:
        if entry.get(flag) is True:
            return flag
    return "primary"


SOURCES = ["tool", "poetry", "source"]


def declared_sources(document):
    """The source list of a pyproject document (None when there is none)."""
    poetry = _toml.get_path(document, SOURCES[:2])
    if poetry is not None and not isinstance(poetry, dict):
        raise SourceError("tool.poetry in pyproject.toml is not a table")
    sources = _toml.get_path(document, SOURCES)
    if sources is not None and not (isinstance(sources, list)
                                    and all(isinstance(entry, dict) for entry in sources)):
        raise SourceError("tool.poetry.source in pyproject.toml is not a list of tables")
    return sources


def find_entry(sources, name):
    """Index of the entry called name (case-insensitive), or None."""
    found = [index for index, entry in enumerate(sources or [])
             if str(entry.get("name", "")).lower() == name.lower()]
    if len(found) > 1:
        raise SourceError("pyproject.toml declares the source %s %d times" % (name, len(found)))
    return found[0] if found else None


def update_entry(entry, url, priority):
    """Set url and priority where they differ; returns whether anything changed."""
    changed = False
    if url is not None and entry.get("url") != url:
        entry["url"] = url
        changed = True
    if priority is not None and effective_priority(entry) != priority:
        for flag in DEPRECATED_PRIORITIES:
            if flag in entry:
                del entry[flag]
        entry["priority"] = priority
        changed = True
    return changed


def check_request(name, url, state):
    """Refuse what Poetry would refuse, before reading anything."""
    if not name.strip():
        raise SourceError("name must not be empty")
    if state == "present" and url is not None:
        if name.lower() == PYPI.lower():
            raise SourceError("The URL of PyPI is fixed and cannot be set: declare PyPI without url")
        if not url.strip():
            raise SourceError("url must not be empty")
        _poetry_config.check_url(url)


def ensure_source(document, name, url, priority, state):
    """Bring the source called name to the wanted state in a pyproject document (edited in place).

    Returns (changed, entry after or None, names of all sources after).
    """
    index = find_entry(declared_sources(document), name)
    changed = False
    if state == "absent":
        if index is not None:
            _toml.remove_item(document, SOURCES, index)
            changed = True
    elif index is None:
        is_pypi = name.lower() == PYPI.lower()
        if url is None and not is_pypi:
            raise SourceError("url is required to add the source %s" % name)
        # Keys in the order `poetry source add` writes them; PyPI has no URL.
        pairs = [("name", PYPI if is_pypi else name), ("url", url), ("priority", priority or "primary")]
        _toml.append_table(document, SOURCES, [(key, value) for key, value in pairs if value is not None])
        changed = True
    else:
        changed = update_entry(declared_sources(document)[index], url, priority)
    sources = declared_sources(document) or []
    index = find_entry(sources, name)
    entry = None if index is None else _toml.unwrap(sources[index])
    return changed, entry, [str(source.get("name")) for source in sources]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_path=dict(type="path", required=True),
            name=dict(type="str", required=True),
            url=dict(type="str"),
            priority=dict(type="str", choices=["primary", "supplemental", "explicit"]
                          + list(DEPRECATED_PRIORITIES)),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    if not _toml.HAS_TOMLKIT:
        module.fail_json(msg=missing_required_lib("tomlkit"), exception=_toml.TOMLKIT_IMPORT_ERROR)
    params = module.params
    # Refused below, but credentials given anyway must not come back in the result.
    module.no_log_values.update(_secrets.url_secrets(params["url"]))
    path = os.path.join(params["project_path"], "pyproject.toml")
    try:
        check_request(params["name"], params["url"], params["state"])
        path = _poetry_config.pyproject_file(params["project_path"])
        document = _toml.load_document(path)
        before = _toml.dumps(document)
        changed, entry, names = ensure_source(
            document, params["name"], params["url"], params["priority"], params["state"])
        # tomlkit ends an appended or emptied array of tables with a blank line; at the end of
        # the file that is noise.
        after = _toml.dumps(document).rstrip("\n") + "\n" if changed else before
        if changed and not module.check_mode:
            _toml.write_atomic(path, after)
    except _toml.TomlError as error:
        module.fail_json(**error.to_fail_kwargs())
    if params["state"] == "present" and params["priority"] in DEPRECATED_PRIORITIES:
        module.warn("Priority %s is deprecated since Poetry 1.5 and refused by Poetry 2; use primary, "
                    "supplemental or explicit" % params["priority"])
    lock_exists = os.path.exists(os.path.join(params["project_path"], "poetry.lock"))
    result = dict(changed=changed, path=path, source=entry, sources=names,
                  lock_stale=changed and lock_exists)
    if module._diff:
        result["diff"] = dict(before=before, after=after, before_header=path, after_header=path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
