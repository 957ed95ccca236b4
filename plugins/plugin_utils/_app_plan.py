# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy planner of lockstep.poetry.app: every decision of a deploy, in pure functions.

``plan()`` takes the role's input (``settings``, the role's variables without their
``poetry_app_`` prefix), what the host said (``host``, the answer of the helper inspect_app),
what the source said (``release``: its id, the checksums of its pyproject.toml and poetry.lock
when known, and the archive to unpack; None for a git source not fetched yet) and whether this
is a check mode run (and one with --diff), and returns one plan: whether the run is idle, what
to lay out, whether to unpack, the virtualenv's key and whether to build it, the files to write,
the links to switch, whether to restart, what to prune, the report, and ``steps``: which of the
steps of the role's pipeline run (their ``when:`` read it). It does no I/O.

The action lockstep.poetry.app_inspect calls it after its look at the host, and again, without
looking at the host, when the run learns what the first plan could not know: a git source's
release once fetched, or the checksums of a release only known once unpacked. The role's tasks
only read the plan. Tests: tests/unit/plugins/plugin_utils/test_app_plan.py. Private to this
collection: no compatibility promise.
"""

import hashlib
import json
import posixpath
import re

from ansible.module_utils.compat.version import LooseVersion
from ansible.module_utils.six.moves.urllib.parse import urlsplit

try:
    from packaging.version import InvalidVersion, Version
except ImportError:  # ansible-core depends on packaging; ansible-test's import check has only the standard library
    InvalidVersion = ValueError
    Version = None

from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import text_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._programs import missing_programs_message
from ansible_collections.lockstep.poetry.plugins.plugin_utils import _app_handover, _build_once
from ansible_collections.lockstep.poetry.plugins.plugin_utils._app_layout import (
    RELEASE_VENV_LINK, app_layout, candidate_venv_target, current_target, shared_target, venv_target)

# The steps of a deploy where poetry_app_hooks run commands.
HOOKS = ("after_stage", "before_switch", "after_switch", "after_rollback")
# The files of a release that decide its virtualenv.
PROJECT_FILES = ("pyproject.toml", "poetry.lock")
# A path in poetry_app_shared_paths: relative, inside the release, no '.' or '..' components.
_BAD_SHARED_PATH = re.compile(r"^/|^$|(^|/)[.][.]?(/|$)")
# A service's name in poetry_app_services: it names a systemd unit, <service_name>-<name>.
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# What a service of poetry_app_services may say.
SERVICE_KEYS = ("command", "listen", "handover", "schedule", "unit_options", "timer_options")
# Where a service listens: host:port (an IPv6 host in brackets), a port, or a Unix socket's path.
_LISTEN = re.compile(r"^(?:(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(?P<port>[0-9]{1,5})$")
_ANY_HOST = ("", "0.0.0.0", "[::]")


class PlanError(Exception):
    """The input does not fit together; the message says how, for the user."""


def program_of(command):
    """The program that a service's command runs: its first word (a string is split as systemd
    splits an ExecStart line on whitespace), '' for no command."""
    words = command.split() if isinstance(command, str) else list(command)
    return words[0] if words else ""


def services(settings):
    """The processes of a release, each {name, unit, command, listen, schedule, unit_options,
    timer_options}: those of poetry_app_services (each in the unit <service_name>-<name>), or
    the one of poetry_app_command (in the unit <service_name>, named ''), or none. A service with
    a schedule is a job that a timer starts; one that listens gets its socket from systemd."""
    if settings["services"]:
        found = []
        for name, spec in sorted(settings["services"].items()):
            spec = spec if isinstance(spec, dict) else {}
            found.append({
                "name": name,
                "unit": "%s-%s" % (settings["service_name"], name),
                "command": spec.get("command") or "",
                "listen": spec.get("listen") or "",
                # How a restart hands the traffic over (_app_handover.py).
                "handover": spec.get("handover") or "restart",
                "schedule": spec.get("schedule"),
                "unit_options": dict(settings["unit_options"], **(spec.get("unit_options") or {})),
                "timer_options": spec.get("timer_options") or {},
            })
        return found
    if program_of(settings["command"]):
        return [{"name": "", "unit": settings["service_name"], "command": settings["command"],
                 "listen": settings["listen"], "handover": settings["handover"], "schedule": None, "unit_options": settings["unit_options"],
                 "timer_options": {}}]
    return []


def programs(settings):
    """The programs of the services that the virtualenv must provide (not those given by path)."""
    return sorted(set(program for program in (program_of(service["command"]) for service in services(settings))
                      if "/" not in program))


def listen_address(listen):
    """(host, port) of a listen address host:port or port, ('', path) of a Unix socket's path, None
    when it is neither."""
    if listen.startswith("/"):
        return ("", listen)
    found = _LISTEN.match(listen)
    if not found or not 0 < int(found.group("port")) < 65536:
        return None
    return (found.group("host") or "", int(found.group("port")))


def _same_socket(one, other):
    """Two listen addresses that systemd cannot both bind: the same, or the same port where one
    listens on every address."""
    if isinstance(one[1], str) or isinstance(other[1], str):
        return one == other
    return one[1] == other[1] and (one[0] == other[0] or one[0] in _ANY_HOST or other[0] in _ANY_HOST)


def service_problems(settings):
    """What does not fit in poetry_app_services (or poetry_app_listen), as messages."""
    problems = []
    if settings["services"] and program_of(settings["command"]):
        problems.append("Set poetry_app_services or poetry_app_command, not both.")
    if settings["services"] and settings["listen"]:
        problems.append("poetry_app_listen goes with poetry_app_command: in poetry_app_services, give each "
                        "service its own listen.")
    if settings["listen"] and not program_of(settings["command"]):
        problems.append("poetry_app_listen needs poetry_app_command, the service that listens.")
    if settings["handover"] != "restart":
        if settings["services"]:
            problems.append("poetry_app_handover goes with poetry_app_command: in poetry_app_services, give each "
                            "service its own handover.")
        else:
            problems.extend(_app_handover.problems("poetry_app_handover", settings["service_name"],
                                                   {"handover": settings["handover"], "listen": settings["listen"]},
                                                   settings["healthcheck_url"], set()))
    if settings["service_manager"] != "systemd" and (settings["services"] or settings["listen"]):
        problems.append("poetry_app_services and poetry_app_listen need poetry_app_service_manager systemd.")
    for name, spec in sorted((settings["services"] or {}).items()):
        where = "poetry_app_services.%s" % name
        if name.endswith("-candidate"):
            problems.append("%s: names ending in -candidate are the role's (the unit of a release checked before "
                            "the switch)." % where)
        if not _SERVICE_NAME.match(name):
            problems.append("%s: a service's name names its systemd unit (%s-%s): use letters, digits, '-' and "
                            "'_', starting with a letter or a digit." % (where, settings["service_name"], name))
        if not isinstance(spec, dict):
            problems.append("%s must be a mapping with at least a command." % where)
            continue
        unknown = sorted(set(spec) - set(SERVICE_KEYS))
        if unknown:
            problems.append("%s: unknown %s %s (known: %s)." % (
                where, "keys" if len(unknown) > 1 else "key", ", ".join(unknown), ", ".join(SERVICE_KEYS)))
        if not program_of(spec.get("command") or ""):
            problems.append("%s needs a command." % where)
        if "schedule" in spec and not spec["schedule"]:
            problems.append("%s: a timer needs a schedule (a systemd OnCalendar expression, e.g. hourly)." % where)
        if spec.get("timer_options") and not spec.get("schedule"):
            problems.append("%s: timer_options without a schedule: only a timer, with a schedule, has them." % where)
        if spec.get("schedule") and spec.get("listen"):
            problems.append("%s: a timer's job does not listen: give it a schedule or listen, not both." % where)
        others = set("%s-%s" % (settings["service_name"], other) for other in settings["services"] if other != name)
        problems.extend(_app_handover.problems(where, "%s-%s" % (settings["service_name"], name), spec,
                                               settings["healthcheck_url"], others))
    for service in services(settings):
        if isinstance(service["command"], str) and "\n" in service["command"].strip():
            problems.append("%s: a command given as a string is one line (systemd's ExecStart): give it as a list "
                            "of arguments." % service["unit"])
    listening = [(service["unit"], service["listen"]) for service in services(settings) if service["listen"]]
    addresses = {}
    for unit, listen in listening:
        address = listen_address(listen)
        if address is None:
            problems.append("%s: listen '%s' is not host:port, a port or a Unix socket's absolute path." % (
                unit, listen))
            continue
        taken = [other for other, known in addresses.items() if _same_socket(address, known)]
        if taken:
            problems.append("%s and %s listen on the same socket (%s)." % (taken[0], unit, listen))
        addresses[unit] = address
    return problems


def _is_http_url(url):
    """An http:// or https:// URL with a host (the helper check_url asks only such)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def input_problems(settings):
    """What does not fit together in the role's input, as messages for the user."""
    checks = [
        (settings["service_manager"] == "none" or program_of(settings["command"]) or settings["services"],
         "poetry_app_command or poetry_app_services is required when poetry_app_service_manager is systemd."),
        (not (settings["healthcheck_url"] and settings["healthcheck_command"]),
         "Set poetry_app_healthcheck_url or poetry_app_healthcheck_command, not both."),
        (not settings["healthcheck_url"] or _is_http_url(settings["healthcheck_url"]),
         "poetry_app_healthcheck_url must be an http:// or https:// URL with a host, such as "
         "http://127.0.0.1:8000/health (the host asks it of itself)."),
        (settings["service_manager"] == "systemd" or not settings["healthcheck_url"],
         "With poetry_app_service_manager none nothing serves the application during the deploy: "
         "check its health with poetry_app_healthcheck_command."),
        (not (settings["only"] and (settings["with"] or settings["without"])),
         "Poetry ignores poetry_app_with and poetry_app_without when poetry_app_only is set: "
         "set poetry_app_only to [] to use them."),
        (not (settings["extras"] and settings["all_extras"]),
         "Set poetry_app_extras or poetry_app_all_extras, not both."),
        (settings["keep_releases"] >= 1,
         "poetry_app_keep_releases must be at least 1 (the current release)."),
        (not any(_BAD_SHARED_PATH.search(path) for path in settings["shared_paths"]),
         "poetry_app_shared_paths must be relative paths inside a release, without '.' or '..' components."),
        (not any(_BAD_SHARED_PATH.search(path) for path in settings["shared_files"]),
         "poetry_app_shared_files must be relative paths inside a release, without '.' or '..' components."),
        (not set(settings["shared_paths"]) & set(settings["shared_files"]),
         "A path is in poetry_app_shared_paths or in poetry_app_shared_files, not in both."),
        (settings["root"].startswith("/") and len(settings["root"]) > 1,
         "poetry_app_root must be an absolute path."),
        (settings["source_type"] or settings["rollback_to"],
         "poetry_app_source is required, unless poetry_app_rollback_to names a release to go back to."),
        (settings["build_on"] == "host" or settings["source_type"] in (None, "copy"),
         "poetry_app_build_on %s builds from the project on the controller: it needs a poetry_app_source of type "
         "copy (a %s source is unpacked on each host)." % (settings["build_on"], settings["source_type"])),
        (settings["build_on"] == "host" or not settings["root_install"],
         "poetry_app_build_on %s ships the locked dependencies only: poetry_app_root_install needs "
         "poetry_app_build_on host." % settings["build_on"]),
    ]
    return [message for fits, message in checks if not fits] + service_problems(settings)


def check_input(settings):
    """Raises PlanError with every problem of the input at once."""
    problems = input_problems(settings)
    if problems:
        raise PlanError(" ".join(problems))


def unit_name(settings):
    """The service's systemd unit (without .service), '' when systemd does not run it."""
    return settings["service_name"] if settings["service_manager"] == "systemd" else ""


def checked_before_switch(settings):
    """The service that a new release starts beside the running one, for its health check, before
    it takes traffic: the one that listens where poetry_app_healthcheck_url points (its host and
    port); None when no service listens there."""
    if not settings["healthcheck_url"] or settings["service_manager"] != "systemd":
        return None
    url = urlsplit(settings["healthcheck_url"])
    try:
        port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    except ValueError:
        return None
    # As a listen address writes it: an IPv6 host in brackets.
    host = url.hostname or ""
    checked = ("[%s]" % host if ":" in host else host, port)
    for service in services(settings):
        address = listen_address(service["listen"]) if service["listen"] and not service["schedule"] else None
        if address and _same_socket(address, checked):
            return service
    return None


def candidate_name(service):
    """The name of a service's candidate, a release run beside the running one: its units are
    <name>.service and <name>.socket."""
    return service["unit"] + "-candidate"


def candidate(service):
    """The candidate of a service, as the tasks start, check and stop it: its unit, its socket (a
    Unix socket of its own) and its units (the service and its socket)."""
    name = candidate_name(service)
    return {"unit": name + ".service", "socket": "/run/%s.sock" % name, "units": [name + ".service", name + ".socket"]}


def candidates(settings):
    """The services that a release runs beside the running one on sockets of their own: the one
    checked before the switch, and those whose restarts hand their traffic over (handover
    proxy)."""
    checked = checked_before_switch(settings)
    return [service for service in services(settings)
            if _app_handover.proxied(service) or (checked and service["unit"] == checked["unit"])]


def unit_files(settings, layout):
    """The unit files of the release's services under systemd, {file name: content}: a .service
    each, a .socket for one that listens, a .timer for a scheduled job; for a service with
    handover proxy, the proxy its public socket starts and the service's own socket; and the
    units of the candidates."""
    if settings["service_manager"] != "systemd":
        return {}
    found = {}
    for service in services(settings):
        found[service["unit"] + ".service"] = service_unit(settings, layout, service)
        if service["listen"]:
            found[service["unit"] + ".socket"] = socket_unit(settings, service)
        if _app_handover.proxied(service):
            names = _app_handover.unit_names(service["unit"])
            unit_lines, lines = _app_handover.proxy_service_lines(settings, service["unit"])
            found[names["proxy"]] = _unit_text(_described(settings, service, "proxy"), unit_lines, "Service", lines)
            own = dict(service, unit=names["main_socket"].rsplit(".", 1)[0],
                       listen=_app_handover.main_socket(service["unit"]))
            found[names["main_socket"]] = socket_unit(settings, own, instance_of=service["unit"])
        if service["schedule"]:
            found[service["unit"] + ".timer"] = timer_unit(settings, service)
    for checked in candidates(settings):
        beside = dict(checked, unit=candidate_name(checked), listen=candidate(checked)["socket"])
        found[beside["unit"] + ".service"] = service_unit(settings, layout, beside, candidate=True)
        found[beside["unit"] + ".socket"] = socket_unit(settings, beside, candidate=True)
    return found


def layout_of(settings):
    """The application's layout (_app_layout.py)."""
    return app_layout(settings["root"], unit_name(settings))


def directories(settings, layout):
    """The directories that must be the application's user's and group's, mode 0755: the root,
    releases/, venvs/ and, with shared paths, shared/ and each of them."""
    found = [layout["root"], layout["releases"], layout["venvs"]]
    if settings["shared_paths"] or settings["shared_files"]:
        found.append(layout["shared"])
        found.extend(posixpath.join(layout["shared"], path) for path in settings["shared_paths"])
        # The directories that hold shared files.
        found.extend(sorted(set(posixpath.join(layout["shared"], posixpath.dirname(path))
                                for path in settings["shared_files"] if posixpath.dirname(path)) - set(found)))
    return found


def shared_files(settings, layout):
    """Where the shared files live on the host (poetry_app_shared_files)."""
    return [posixpath.join(layout["shared"], path) for path in settings["shared_files"]]


def needs_scratch(settings, check_mode):
    """Scratch space on the host: check mode unpacks and checks new releases there, and a git
    source is exported there. A rollback takes a release the host has."""
    return not settings["rollback_to"] and (check_mode or settings["source_type"] == "git")


def _linking_release(host, layout, key, *release_ids):
    """The directory of the first of release_ids on the host that links to the virtualenv key."""
    for release_id in release_ids:
        if release_id and host["releases"].get(release_id, {}).get("venv") == key:
            return posixpath.join(layout["releases"], release_id)
    return None


def _complete(host, release_id):
    """Whether a release on the host links to a ready virtualenv (the last step of staging)."""
    venv = host["releases"].get(release_id, {}).get("venv")
    return venv is not None and host["venvs"].get(venv) is not None


def rollback_release(settings, host):
    """The kept release that poetry_app_rollback_to names: a release id, or `previous`, the
    release switched to last before the current one, leaving out those kept after they failed
    their health check. PlanError when the host has no such release, or no longer its
    virtualenv."""
    wanted = settings["rollback_to"]
    kept = sorted(host["releases"], key=lambda r: host["releases"][r]["mtime"], reverse=True)
    listed = ", ".join(kept) or "none"
    if wanted == "previous":
        candidates = [r for r in kept if r != host["current_release"] and not host["releases"][r].get("failed")
                      and _complete(host, r)]
        if not candidates:
            raise PlanError("poetry_app_rollback_to: there is no previous release to go back to (releases kept: %s)."
                            % listed)
        wanted = candidates[0]
    elif wanted not in host["releases"]:
        raise PlanError("poetry_app_rollback_to: release %s is not on the host: it was pruned or never deployed "
                        "there (releases kept: %s). Deploy it from its source." % (wanted, listed))
    elif not _complete(host, wanted):
        raise PlanError("poetry_app_rollback_to: release %s is incomplete (its virtualenv is gone or was never "
                        "ready). Deploy it from its source." % wanted)
    return {"id": wanted, "checksums": None, "archive": None}


def git_release(commit, scratch):
    """A git source's release, once fetched: named after the commit, exported into scratch
    space as an archive whose files are under a directory named after the release."""
    return {
        "id": commit[:12],
        "checksums": None,
        "archive": {"src": posixpath.join(scratch, "release.tar"), "remote_src": True, "strip_components": 1},
    }


def with_venv_to_repair(host, key):
    """What the host is once a ready virtualenv was found to differ from its lock and what differs
    was removed from it (poetry_app_verify): a virtualenv to build again where it is, and services
    to restart once it is."""
    if key not in host["venvs"]:
        raise PlanError("The host has no virtualenv %s to put right." % key)
    return dict(host, repair=key, files=dict(host["files"], restart_marker=True))


def venv_key(settings, lock_sha1, python_version, release_id, platform_digest=None):
    """A virtualenv is keyed by what decides its content: the lock, the Python version, the
    groups, the extras, and the release itself when the project is installed too; built once
    for the fleet (poetry_app_build_on), the wheel tags and markers of the host's Python
    (platform_digest) too, since hosts of one kind share the wheelhouse of that key. (The JSON is
    the one Jinja's to_json wrote when the role worked this out in YAML: keys stay the same.)"""
    decided_by = [
        lock_sha1, python_version,
        sorted(settings["only"]), sorted(settings["with"]), sorted(settings["without"]),
        sorted(settings["extras"]), settings["all_extras"],
        release_id if settings["root_install"] else "",
    ] + ([platform_digest] if platform_digest else [])
    return "py%s-%s" % (python_version, hashlib.sha256(json.dumps(decided_by).encode("utf-8")).hexdigest()[:12])


# Where a host unpacks the wheelhouse of a virtualenv it installs (in the directory of the
# virtualenvs, which the application's user owns), until the virtualenv is ready.
WHEELHOUSE_DIR = ".wheelhouse-%s"


def wheelhouse(settings, key, target, layout):
    """The build-once mode's plan for a virtualenv to build: the builder (the controller, or the
    inventory host poetry_app_build_on names), where it keeps the wheelhouse of the key and where
    the controller does (the same file for the controller), for which kind of host, and where the
    host unpacks it."""
    builder = settings["build_on"]
    archive = posixpath.join(settings["build_cache"], key + ".tar")
    return {
        "builder": builder,
        "delegate_to": "localhost" if builder == "controller" else builder,
        "archive": archive,
        # The project on the controller (poetry_app_source.path), and the selection, so that the
        # builder takes each kind of host's wheels from its own plan (taken once for the hosts of
        # a play batch, by one of them: tasks/build.yml).
        "source": settings["source_path"],
        "selection": {"only": settings["only"], "with_groups": settings["with"], "without_groups": settings["without"],
                      "extras": settings["extras"], "all_extras": settings["all_extras"]},
        # A build host gets the project's pyproject.toml and poetry.lock there.
        "project": posixpath.join(settings["build_cache"], key + ".project"),
        # The controller ships what it built itself from poetry_app_build_cache, and what a build
        # host built from its own cache, where it fetches it.
        "local_archive": archive if builder == "controller" else posixpath.join(settings["controller_cache"], key + ".tar"),
        "fetch": builder != "controller",
        # The modules compiled once, by the controller: the hosts run that bytecode as it is, and
        # only the controller runs code on them anyway (a build host compiles nothing for them).
        "bytecode": settings["compile"] and builder == "controller",
        "target": dict((name, value) for name, value in target.items() if name != "digest"),
        "dir": posixpath.join(layout["venvs"], WHEELHOUSE_DIR % key),
    }


def shared_links(shared_paths):
    """The links from a release to its shared paths (app_release's links option)."""
    return [{"path": path, "target": shared_target(path)} for path in shared_paths]


def _systemd_quote(word):
    """One argument of ExecStart, quoted so that systemd passes it as it is (a line break or a tab
    as the C escape systemd reads back: a unit's line cannot hold one)."""
    word = re.sub(r'([\\"])', r"\\\1", word).replace("%", "%%").replace("$", "$$")
    return '"%s"' % word.replace("\n", "\\n").replace("\t", "\\t")


def exec_start(command, venv):
    """systemd's ExecStart for the service's command: a program without a '/' runs from the
    virtualenv venv (a link: the current release's, or the candidate's). A string keeps
    systemd's own quoting; a list is quoted argument by argument."""
    program = program_of(command)
    if "/" not in program:
        program = posixpath.join(venv, "bin", program)
    if isinstance(command, str):
        return program + re.sub(r"^\s*\S+", "", command)
    return " ".join(_systemd_quote(word) for word in [program] + list(command[1:]))


def _unit_text(description, unit_lines, section, section_lines, wanted_by=None):
    """A unit file managed by the role: [Unit], its own section, and [Install] when it starts at
    boot (wanted_by)."""
    lines = (["# Managed by the lockstep.poetry.app role: changes made here are overwritten.", "[Unit]",
              "Description=%s (deployed by lockstep.poetry.app)" % description]
             + unit_lines + ["", "[%s]" % section] + section_lines)
    if wanted_by:
        lines.extend(["", "[Install]", "WantedBy=%s" % wanted_by])
    return "\n".join(lines) + "\n"


def _described(settings, service, what=""):
    return " ".join(part for part in (settings["name"], service["name"], what) if part)


def service_unit(settings, layout, service, candidate=False):
    """A service's systemd unit: it runs the service's command from the current release, as the
    application's user with its environment. One that listens takes its socket from systemd
    (socket_unit); a scheduled job runs once each time its timer starts it. A candidate runs the
    release that `candidate` points to (and its virtualenv, `candidate.venv`: the release's own
    link to it is made at the switch), only while its health check runs."""
    current = layout["candidate"] if candidate else layout["current"]
    venv = layout["candidate_venv"] if candidate else posixpath.join(current, RELEASE_VENV_LINK)
    job = bool(service["schedule"])
    unit_lines = ["After=network-online.target", "Wants=network-online.target"]
    # A proxied service's own socket is not its public one (which starts the proxy).
    own_socket = "%s.socket" % service["unit"]
    if _app_handover.proxied(service) and not candidate:
        own_socket = _app_handover.unit_names(service["unit"])["main_socket"]
    if service["listen"]:
        unit_lines.extend(["Requires=%s" % own_socket, "After=%s" % own_socket])
    lines = [
        "Type=oneshot" if job else "Type=exec",
        "User=%s" % settings["user"],
        "Group=%s" % settings["group"],
        "# The links resolve when the service starts: a restart after a switch runs the new release.",
        "WorkingDirectory=%s" % current,
        'Environment="VIRTUAL_ENV=%s"' % venv,
        'Environment="PATH=%s/bin:/usr/local/bin:/usr/bin:/bin"' % venv,
        "# Output reaches the journal at once, and a write to stderr from a signal handler cannot",
        "# raise (Gunicorn's master stopped 30 s late on that); the environment file may unset it.",
        'Environment="PYTHONUNBUFFERED=1"',
        "EnvironmentFile=%s" % layout["env_file"],
        "ExecStart=%s" % exec_start(service["command"], venv),
    ]
    if own_socket != "%s.socket" % service["unit"]:
        lines.append("Sockets=%s" % own_socket)
    starts_at_boot = not (job or candidate)
    if starts_at_boot:
        lines.extend(["Restart=%s" % settings["restart_policy"], "RestartSec=2"])
    lines.extend("%s=%s" % (name, value) for name, value in sorted(service["unit_options"].items()))
    return _unit_text(_described(settings, service, "candidate" if candidate else ""), unit_lines, "Service", lines,
                      "multi-user.target" if starts_at_boot else None)


def socket_unit(settings, service, candidate=False, instance_of=None):
    """The socket of a service that listens. systemd holds it across restarts: while the service
    restarts on another release, connections wait in its queue instead of being refused. A
    candidate's socket is root's alone (only the health check reaches it), or also the
    application's user's when the proxy of handover proxy forwards to it. With handover proxy
    the public socket starts the proxy, and the service's own socket (instance_of: the service's
    unit) is the application's user's alone."""
    lines = ["ListenStream=%s" % service["listen"]]
    proxied = _app_handover.proxied(service)
    if instance_of:
        lines.extend(["SocketUser=%s" % settings["user"], "SocketGroup=%s" % settings["group"], "SocketMode=0600",
                      "Service=%s.service" % instance_of])
    elif candidate:
        if proxied:
            lines.extend(["SocketUser=%s" % settings["user"], "SocketGroup=%s" % settings["group"]])
        lines.append("SocketMode=0600")
    elif service["listen"].startswith("/"):
        lines.extend(["SocketUser=%s" % settings["user"], "SocketGroup=%s" % settings["group"], "SocketMode=0660"])
    if proxied and not (candidate or instance_of):
        lines.append("Service=%s" % _app_handover.unit_names(service["unit"])["proxy"])
    what = "candidate socket" if candidate else "own socket" if instance_of else "socket"
    return _unit_text(_described(settings, service, what), [], "Socket", lines,
                      None if candidate else "sockets.target")


def timer_unit(settings, service):
    """The timer of a scheduled job: it starts the job's service on the schedule (a systemd
    OnCalendar expression), and catches up on a run missed while the host was down."""
    options = dict({"Persistent": "true"}, **service["timer_options"])
    lines = ["OnCalendar=%s" % service["schedule"]]
    lines.extend("%s=%s" % (name, value) for name, value in sorted(options.items()))
    return _unit_text(_described(settings, service, "timer"), [], "Timer", lines, "timers.target")


def files_to_write(settings, host, env_content, units):
    """The managed files that the host does not have as they should be (content, owner, group and
    mode): `env`, the service's environment, and the unit files by name."""
    wanted = {"env": (env_content, settings["user"], settings["group"], "0600")}
    wanted.update((name, (content, "root", "root", "0644")) for name, content in units.items())
    found = dict(host["files"].get("units") or {}, env=host["files"].get("env"))
    differing = []
    for name in ["env"] + sorted(units):
        content, owner, group, mode = wanted[name]
        have = found.get(name) or {}
        if (have.get("type"), have.get("sha1"), have.get("owner"), have.get("group"), have.get("mode")) != (
                "file", text_digest(content), owner, group, mode):
            differing.append(name)
    return differing


def _legacy_unit(settings):
    """The one unit of poetry_app_command, which hosts deployed before the role recorded its units
    have without a record."""
    return settings["service_name"] + ".service"


def units_to_inspect(settings, layout):
    """The unit files whose content and state the inspection reads (it adds those the record
    lists): the release's, and the unit of poetry_app_command, which a move to poetry_app_services
    retires on a host deployed before the record."""
    if settings["service_manager"] != "systemd":
        return []
    return sorted(set(unit_files(settings, layout)) | {_legacy_unit(settings)})


def recorded_units(settings, host):
    """The unit files that the role wrote for the application on the host: as its record lists
    them; without a record (deployed before there was one), the one unit of poetry_app_command."""
    recorded = host["files"].get("unit_manifest")
    if recorded is not None:
        return list(recorded)
    legacy = _legacy_unit(settings)
    return [legacy] if (host["files"].get("units") or {}).get(legacy) else []


def _up(state):
    return bool(state and state["active"] and state["enabled"])


def unit_actions(settings, host, to_write, restart):
    """What systemd does with each unit when the release is activated, in order, as
    {unit, state, enabled}: sockets up before their services; long-running services (re)started,
    a restart when anything they run changed (the release, the environment, a unit); timers up,
    restarted when their unit changed. A socket whose unit changed (another address) is
    restarted with its service stopped, since the service holds the old socket; so is the public
    socket of a service whose handover changed, its own socket of handover proxy stopped first
    when it goes. The proxy of handover proxy restarts when its unit changed."""
    states = host.get("units") or {}
    recorded = recorded_units(settings, host)
    actions = []
    for service in services(settings):
        unit = service["unit"]
        if service["schedule"]:
            timer = unit + ".timer"
            if timer in to_write or not _up(states.get(timer)):
                actions.append({"unit": timer, "state": "restarted" if timer in to_write else "started", "enabled": True})
            continue
        name = unit + ".service"
        names = _app_handover.unit_names(unit)
        proxied = _app_handover.proxied(service)
        sockets = ([unit + ".socket"] if service["listen"] else []) + ([names["main_socket"]] if proxied else [])
        # Sockets to restart (their unit changed), and the own socket of a handover proxy that
        # goes: the service, and the proxy that holds the public socket, stop first.
        changed = [socket for socket in sockets if socket in to_write and (states.get(socket) or {}).get("active")]
        going = (not proxied and names["main_socket"] in recorded
                 and bool((states.get(names["main_socket"]) or {}).get("active")))
        stopped = bool(changed) or going
        if stopped:
            actions.append({"unit": name, "state": "stopped", "enabled": True})
            if (states.get(names["proxy"]) or {}).get("active"):
                actions.append({"unit": names["proxy"], "state": "stopped"})
            if going:
                actions.append({"unit": names["main_socket"], "state": "stopped"})
        for socket in sockets:
            if socket in changed:
                actions.append({"unit": socket, "state": "restarted", "enabled": True})
            elif not _up(states.get(socket)):
                actions.append({"unit": socket, "state": "started", "enabled": True})
        # A proxy's new unit applies once it starts again (the public socket starts it).
        if names["proxy"] in to_write and (states.get(names["proxy"]) or {}).get("active") and not stopped:
            actions.append({"unit": names["proxy"], "state": "stopped"})
        if restart or stopped or not _up(states.get(name)):
            actions.append({"unit": name, "state": "restarted" if restart else "started", "enabled": True})
    return actions


def rollback_actions(settings, current_id):
    """After a failed activation: the long-running services restart on the previous release; when
    there was none, every unit stops (a socket left up would start the failed release)."""
    found = []
    for service in services(settings):
        if current_id:
            if not service["schedule"]:
                found.append({"unit": service["unit"] + ".service", "state": "restarted"})
        else:
            found.append({"unit": service["unit"] + (".timer" if service["schedule"] else ".service"), "state": "stopped"})
            if service["listen"]:
                found.append({"unit": service["unit"] + ".socket", "state": "stopped"})
            if _app_handover.proxied(service):
                names = _app_handover.unit_names(service["unit"])
                found.extend({"unit": names[name], "state": "stopped"} for name in ("proxy", "main_socket"))
    return found


def prune(settings, host, layout, release_id, key):
    """Releases beyond the newest keep_releases (this run's release counts as the newest) and
    the virtualenvs no kept release uses."""
    releases = dict(host["releases"])
    releases[release_id] = {"venv": key}
    older = sorted((r for r in host["releases"] if r != release_id),
                   key=lambda r: host["releases"][r]["mtime"], reverse=True)
    kept = ([release_id] + older)[:settings["keep_releases"]]
    used = set(releases[r]["venv"] for r in kept if releases[r]["venv"])
    return ([posixpath.join(layout["releases"], r) for r in sorted(releases) if r not in kept]
            + [posixpath.join(layout["venvs"], v) for v in sorted(host["venvs"]) if v not in used])


def hooks(settings, stage, switch_release, rollback):
    """The commands of poetry_app_hooks to run at the three points of a deploy where hooks run,
    each as {hook, command}, in order. Before the switch, in the new release: after_stage (when
    something was staged), then poetry_app_pre_switch_commands and before_switch (when the
    deploy switches to another release; not for a rollback). After the switch, in the release
    switched to: after_switch, and after_rollback for a rollback asked for. After an automatic
    rollback, in the release rolled back to: after_rollback."""
    wanted = dict((name, list((settings["hooks"] or {}).get(name) or [])) for name in HOOKS)
    wanted["before_switch"] = list(settings["pre_switch_commands"]) + wanted["before_switch"]

    def commands(*names):
        return [{"hook": name, "command": command} for name in names for command in wanted[name]]

    return {
        "before_switch": commands(*(("after_stage",) if stage else ())
                                  + (("before_switch",) if switch_release and not rollback else ())),
        "after_switch": commands(*("after_switch", "after_rollback") if rollback else ("after_switch",)),
        "after_rollback": commands("after_rollback"),
    }


def _where(check_mode, scratch, real, name):
    """name in scratch space in check mode (None without any), else in the real directory."""
    if check_mode:
        return posixpath.join(scratch, name) if scratch else None
    return posixpath.join(real, name)


def _layout_needed(found, host):
    """The accounts, the directories or the scratch space need a hand."""
    return bool(host["directories_to_fix"] or found["hand_scratch"] or found["create_user"] or found["create_group"])


def _service(manage, actions, daemon_reload, rollback, retire):
    """What to do with systemd (when it runs the services, and check mode wrote their units): the
    units to (re)start, whether to reload its configuration first, the units to restart or stop
    after a failed activation, and those of services no longer deployed (stopped, disabled and
    removed once the release is active)."""
    return {
        "manage": manage,
        "units": actions if manage else [],
        "daemon_reload": daemon_reload,
        "rollback": rollback if manage else [],
        "retire": retire,
    }


def _candidate_links(layout, release_id, key):
    """The links a candidate runs through: `candidate` to the release, `candidate.venv` to its
    virtualenv."""
    return {"links": [[layout["candidate"], current_target(release_id)],
                      [layout["candidate_venv"], candidate_venv_target(key)]], "touch": None}


def _candidate_unlinks(layout):
    """The arguments of switch_links that remove the links `candidate` and `candidate.venv`."""
    return {"links": [[layout["candidate"], None], [layout["candidate_venv"], None]], "touch": None}


def live_links_to_inspect(settings):
    """The links through which the proxies of handover proxy forward (_app_handover.live_link),
    whose targets the inspection reads."""
    return [_app_handover.live_link(service["unit"]) for service in services(settings)
            if _app_handover.proxied(service)] if settings["service_manager"] == "systemd" else []


def precheck(settings, layout, release_id, key, switch_release, handed, previous=None):
    """What runs beside the running release, each service on a socket of its own, from the
    release and its virtualenv (the links `candidate` and `candidate.venv`), and is checked there
    before it takes traffic: on a switch, the service that listens where the health check points;
    and the services of handover proxy whose restart is handed over (handed), which then take
    their traffic while the service restarts (handover, with the links to the release that
    previous, (release id, virtualenv key), names, for a rollback). None when nothing runs so."""
    checked = checked_before_switch(settings) if switch_release else None
    started = list(handed) + [service for service in [checked] if service and service not in handed]
    if not started or key is None:
        return None
    unlink = _candidate_unlinks(layout)
    return {
        "service": ", ".join(service["unit"] for service in started),
        "candidates": [candidate(service) for service in started],
        "units": [unit for service in started for unit in candidate(service)["units"]],
        # What stops once the others took the traffic: the candidates that were only checked.
        "checked_only": [unit for service in started if service not in handed for unit in candidate(service)["units"]],
        "link": _candidate_links(layout, release_id, key),
        "unlink": unlink,
        "handover": _app_handover.plan(handed, candidate,
                                       _candidate_links(layout, *previous) if previous and all(previous) else None,
                                       unlink),
    }


def _newer(new, old):
    """Whether version new comes after version old: in PEP 440's order (packaging comes with
    ansible-core), or LooseVersion's when one of them is not a PEP 440 version."""
    try:
        if Version is not None:
            return Version(new) > Version(old)
    except InvalidVersion:
        pass
    return LooseVersion(new) > LooseVersion(old)


def package_changes(before, after):
    """What a release changes in the locked packages ({name: version} of the current release's
    poetry.lock and of the new one's): the packages it adds and removes, {name: version}, and
    those it upgrades and downgrades, {name: [from, to]}."""
    changes = {"add": {}, "remove": {}, "upgrade": {}, "downgrade": {}}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            changes["add"][name] = new
        elif new is None:
            changes["remove"][name] = old
        else:
            changes["upgrade" if _newer(new, old) else "downgrade"][name] = [old, new]
    return changes


def _lock_checked_before(host, checksums):
    """A ready virtualenv was built from this very pyproject.toml and poetry.lock, which were
    checked then (the lock fresh)."""
    return any(record and record.get("lock_sha1") == checksums["poetry.lock"]
               and record.get("pyproject_sha1") is not None
               and record.get("pyproject_sha1") == checksums["pyproject.toml"]
               for record in host["venvs"].values())


def plan(settings, host, release, check_mode, env_content, diff_mode=False):
    """The plan of one deploy (see the module's docstring). Fields that depend on what is not
    known yet (the release of a git source before its fetch, the virtualenv of a release whose
    lock is only known once unpacked) are None until the plan is asked again."""
    layout = layout_of(settings)
    missing_shared = host.get("shared_files_missing") or []
    if missing_shared:
        verb = "is" if len(missing_shared) == 1 else "are"
        raise PlanError("poetry_app_shared_files: %s %s not on the host. Shared files outlive releases and the role "
                        "does not make them: put them there before the deploy (for example with "
                        "ansible.builtin.template)." % (", ".join(missing_shared), verb))
    rollback = bool(settings["rollback_to"])
    if rollback:
        release = rollback_release(settings, host)
    systemd = settings["service_manager"] == "systemd"
    scratch = host.get("scratch")
    # The application's user exists, or will once the layout is in place: only a check mode run
    # on a new host finds it missing (files in scratch space then keep the connecting user).
    owner_known = host["app_user_exists"] or not check_mode
    become = settings["user"] != host["user"] and owner_known
    create_user = settings["create_user"] and not host["app_user_exists"]
    create_group = settings["create_user"] and not host["app_group_exists"]
    # A run that switched and was killed before its health check passed (this run took its lock
    # over, and its record of the switch names its lock): the release `current` points to is not
    # confirmed, and this run goes back to the one before if it fails. Any other record is
    # stale: the run that wrote it ended, and released its lock, after its check or rollback.
    lock = host.get("lock") or {}
    pending = host.get("pending_switch") or {}
    unconfirmed = (bool(pending) and pending.get("token") == (lock.get("replaced") or {}).get("token")
                   and pending.get("to") == host["current_release"] != pending.get("from"))
    current_id = (pending.get("from") or "") if unconfirmed else host["current_release"]
    units = unit_files(settings, layout)
    to_write = files_to_write(settings, host, env_content, units)
    # systemd cannot answer for units that check mode did not write.
    manages_service = systemd and not (check_mode and any((host["files"].get("units") or {}).get(name) is None
                                                          for name in units))
    recorded = recorded_units(settings, host)
    retired = sorted(set(recorded) - set(units))
    record = sorted(set(recorded) | set(units))
    retire = {
        "units": retired,
        "files": [posixpath.join(layout["unit_dir"], name) for name in retired],
        # The record of the units, before any is written (all of them, those to retire too) and
        # once those are gone.
        "record_before": record if record != host["files"].get("unit_manifest") and units else None,
        "record_after": sorted(units) if retired else None,
    }
    found = {
        "check_mode": check_mode,
        # The Python that builds virtualenvs and runs the helpers.
        "python": host["python"],
        "current_release": current_id,
        "layout": layout,
        "scratch": scratch,
        "owner_known": owner_known,
        "become": become,
        "create_user": create_user,
        "create_group": create_group,
        "directories": host["directories_to_fix"],
        # Scratch space is the application's user's when something runs there as that user: the
        # fetch of a git source, a release unpacked and checked in check mode.
        "hand_scratch": bool(become and scratch),
        "install_git": settings["source_type"] == "git" and not host["git"],
        # Check mode writes nothing but scratch space (None when none was made: a rollback).
        "git_dir": _where(check_mode, scratch, layout["cache"], "source.git"),
        "poetry_cache_dir": _where(check_mode, scratch and posixpath.join(scratch, "cache"), layout["cache"], "pypoetry"),
        "shared_links": shared_links(settings["shared_paths"] + settings["shared_files"]),
        # A run killed while a proxy forwarded to a candidate: the traffic goes back to the
        # service before anything else (recover.yml), also on a run with nothing else to do.
        "recover": _app_handover.stranded(services(settings), candidate, host.get("live_links") or {},
                                          _candidate_unlinks(layout)) if systemd else None,
        "units": units,
        # The units of the services, as messages name them (not the units the role adds beside
        # them: sockets, candidates, proxies).
        "service_units": [service["unit"] for service in services(settings)] if systemd else [],
        "files_to_write": to_write,
        "programs": programs(settings),
    }
    if release is None:
        # A git source, named once fetched: only the layout and the fetch are planned yet.
        found.update(layout_needed=_layout_needed(found, host), idle=False, release=None, venv=None, stage=False,
                     hooks=hooks(settings, False, False, False), check_lock=False, run_poetry=False,
                     check_and_build=False,
                     links=[], switch=None, switch_back=None, precheck=None, compare_locks=None, restart=False,
                     activate=False, wheelhouse=None,
                     service=_service(manages_service, [], False, [], retire), clear_marks=[],
                     remove_if_staging_fails=[], remove_if_activation_fails=[], mark_failed=None, prune=[],
                     deployment=None)
        return _with_steps(settings, _with_preparation(settings, found), diff_mode)

    release_id = release["id"]
    checksums = release.get("checksums")
    on_host = host["releases"].get(release_id, {})
    linked_venv = on_host.get("venv")
    # A release is complete once it links to a ready virtualenv; anything less is unpacked (again).
    complete = _complete(host, release_id)
    unpack = not complete
    switch_release = release_id != current_id
    missing = [name for name in PROJECT_FILES if checksums is not None and not checksums.get(name)]
    # The lock: from the source or the unpacked release, or, for a complete release, as recorded
    # by the virtualenv it links to (built from that very lock).
    if checksums is not None and not missing:
        lock_sha1 = checksums["poetry.lock"]
    elif complete and checksums is None:
        lock_sha1 = host["venvs"][linked_venv].get("lock_sha1")
    else:
        lock_sha1 = None
    # Built once for the fleet: for the host's kind of Python and platform.
    build_target = _build_once.target(host["platform"], host["python_version"]) \
        if settings["build_on"] != "host" else None
    key = venv_key(settings, lock_sha1, host["python_version"], release_id,
                   build_target and build_target["digest"]) if lock_sha1 else None
    # A ready virtualenv that differed from its lock is built again where it is (it serves).
    repair = key is not None and host.get("repair") == key
    build = key is not None and (host["venvs"].get(key) is None or repair)
    release_dir = posixpath.join(layout["releases"], release_id)
    # In check mode a release to unpack goes into scratch space, to be checked without changing
    # anything.
    project_dir = posixpath.join(scratch if check_mode and unpack else layout["releases"], release_id)
    venv_dir = posixpath.join(layout["venvs"], key) if key else None

    # The switch: the release's link to its virtualenv (new, or changed settings), then `current`.
    links = []
    if key is not None and linked_venv != key:
        links.append({"path": posixpath.join(release_dir, RELEASE_VENV_LINK),
                      "target": venv_target(key),
                      "previous": venv_target(linked_venv) if linked_venv else None})
    if switch_release:
        links.append({"path": layout["current"], "target": current_target(release_id),
                      "previous": current_target(current_id) if current_id else None})
    marker = bool(host["files"].get("restart_marker"))
    restart = systemd and bool(links or to_write or marker)
    actions = unit_actions(settings, host, to_write, restart) if manages_service else []
    activate = bool(links or restart or actions)
    # Staging: a release that is not complete, or whose settings now key another virtualenv.
    stage = unpack or linked_venv != key or repair
    to_prune = prune(settings, host, layout, release_id, key) if key is not None else []
    # A release to switch to in a ready virtualenv: the inspection looked up the services' programs.
    missing_programs = (host.get("programs_missing") or {}).get(key) or [] if switch_release and not build else []
    if missing_programs:
        raise PlanError(missing_programs_message(missing_programs, key) + ". Nothing was changed.")
    keep_failed = settings["keep_failed_releases"] and not rollback
    found["hand_scratch"] = found["hand_scratch"] and unpack
    found["layout_needed"] = _layout_needed(found, host)
    # The lock must be fresh, unless a ready virtualenv was built from this very pyproject.toml
    # and poetry.lock (a code-only release, say). Built once for the fleet, the hosts have no
    # Poetry: the builder reads the lock as it is.
    check_lock = bool(unpack and checksums is not None and not missing and not _lock_checked_before(host, checksums)
                      and build_target is None)

    found.update(
        idle=not (found["layout_needed"] or stage or to_write or activate or to_prune or retired
                  or retire["record_before"]),
        release={
            "id": release_id,
            "dir": release_dir,
            "project_dir": project_dir,
            "archive": release.get("archive"),
            "checksums": checksums,
            "complete": complete,
            "unpack": unpack,
            "switch": switch_release,
            # Files a Poetry project to deploy lacks (known once its checksums are).
            "missing": missing,
            # Kept after it failed its health check; the mark goes once it passes (clear_marks).
            "failed": bool(on_host.get("failed")),
            # Chosen by poetry_app_rollback_to among the releases the host keeps.
            "rollback": rollback,
        },
        venv=None if key is None else {
            "key": key,
            "dir": venv_dir,
            "build": build,
            "link_target": venv_target(key),
            "record_path": posixpath.join(venv_dir, layout["venv_record"]),
            "repair": repair,
            # What poetry_app_verify checks a ready virtualenv against: the lock of a release that
            # links to it, this one once complete, else the current one (None: none does yet).
            "check_project": None if build else _linking_release(host, layout, key, release_id, current_id),
            # Written into a virtualenv once it is ready.
            "record": {
                "lock_sha1": lock_sha1,
                "pyproject_sha1": (checksums or {}).get("pyproject.toml"),
                "python": host["python"],
                "python_version": host["python_version"],
                "only": settings["only"],
                "with": settings["with"],
                "without": settings["without"],
                "extras": settings["extras"],
                "all_extras": settings["all_extras"],
                "root": settings["root_install"],
                "built_on": settings["build_on"],
            },
        },
        # The virtualenv to build, built once on the controller or a build host and shipped as a
        # wheelhouse (None: the host builds it with Poetry, or builds none).
        wheelhouse=wheelhouse(settings, key, build_target, layout) if build and build_target else None,
        stage=stage,
        hooks=hooks(settings, stage, switch_release, rollback),
        check_lock=check_lock,
        # Poetry on the host (tasks/stage_poetry.yml): the lock checked, the virtualenv built and,
        # once it provides the services' programs (found["programs"]), marked ready. Built once,
        # the task that installs the wheelhouse checks the programs and marks it ready; a
        # virtualenv reused had its programs looked up by the inspection (missing_programs above).
        run_poetry=check_lock or (build and build_target is None),
        links=links,
        # The arguments of the helper switch_links: the switch marks the release as the newest.
        # The switch is recorded with the run's lock, for the case that the run is killed before
        # its health check passed (see unconfirmed above).
        switch={"links": [[link["path"], link["target"]] for link in links],
                "touch": release_dir if switch_release else None,
                "record": {"path": layout["pending_switch"],
                           "content": {"from": current_id, "to": release_id,
                                       "token": (lock.get("holder") or {}).get("token")}}
                if switch_release else None},
        switch_back={"links": [[link["path"], link["previous"]] for link in reversed(links)], "touch": None,
                     "forget": layout["pending_switch"] if switch_release else None},
        # The locks whose packages check mode (or --diff) compares: the current release's (None on a
        # new host) and the new one's, once unpacked.
        compare_locks={"before": posixpath.join(layout["releases"], current_id, "poetry.lock") if current_id else None,
                       "after": posixpath.join(project_dir, "poetry.lock")} if switch_release else None,
        # A release to switch to is checked before it takes traffic, when a service listens where
        # the health check points; a restart of a service of handover proxy is handed over (not
        # in check mode, which starts nothing).
        precheck=precheck(settings, layout, release_id, key, switch_release,
                          _app_handover.handed_over(services(settings), actions, host.get("units") or {}),
                          (current_id, host["releases"].get(current_id, {}).get("venv")))
        if manages_service and not check_mode else None,
        restart=restart,
        activate=activate,
        # A unit written now, or by a run that failed before its restart, needs systemd to reload.
        service=_service(manages_service, actions,
                         bool(set(units) & set(to_write)) or marker or bool(retired),
                         rollback_actions(settings, current_id), retire),
        # Files that say something is pending, to remove once the activation passed: the restart
        # marker (a restart done) and the mark of a release that failed before.
        clear_marks=([layout["restart_marker"]] if restart and (marker or to_write) else [])
        + ([posixpath.join(release_dir, layout["failed_marker"])] if on_host.get("failed") else []),
        # What a failure leaves behind: the staged release (unless it was there before, complete)
        # and a virtualenv built for it; after a failed activation, the release switched to.
        remove_if_staging_fails=([release_dir] if unpack and switch_release else [])
        + ([venv_dir] if build and not repair else [])
        + ([posixpath.join(layout["venvs"], WHEELHOUSE_DIR % key)] if build and build_target else []),
        # A release kept after it failed (poetry_app_keep_failed_releases) is marked instead, and
        # one that the host had before (a rollback to it) stays as it is.
        remove_if_activation_fails=[] if keep_failed or rollback
        else ([release_dir] if switch_release else []) + ([venv_dir] if build and not repair else []),
        mark_failed=posixpath.join(release_dir, layout["failed_marker"]) if keep_failed and switch_release else None,
        prune=to_prune,
        deployment={
            "release_id": release_id,
            "release_path": release_dir,
            "previous_release_id": current_id,
            "switched": bool(links),
            "virtualenv": venv_dir,
            "virtualenv_key": key,
            "virtualenv_reused": not build,
            "environment_file": layout["env_file"],
            "service": settings["service_name"] if systemd else None,
            "units": sorted(units),
        },
    )
    # What follows the unpacking (tasks/stage_build.yml): the release's checks (a Poetry project
    # with a fresh lock), the virtualenv's build, the services' programs in it.
    found["check_and_build"] = bool(missing or found["check_lock"] or build)
    return _with_steps(settings, _with_preparation(settings, found), diff_mode)


def _with_preparation(settings, found):
    """The plan with what comes before the deploy, also on a run with nothing else to do
    (tasks/prepare.yml): check_venv, whether the ready virtualenv that the release keeps is
    checked against its lock (poetry_app_verify); and prepare, whether anything does (that, the
    application's user and directories, layout_needed, the way back from a killed handover,
    recover, or the wheels taken on the builder, wheelhouse)."""
    found["check_venv"] = bool(settings["verify"] and found["venv"] and found["venv"]["check_project"])
    found["prepare"] = bool(found["layout_needed"] or found["recover"] or found["wheelhouse"] or found["check_venv"])
    return found


def _with_steps(settings, found, diff_mode):
    """The plan with ``steps``: for each step of the role's pipeline that runs only sometimes and
    has no flag of its own in the plan (prepare, stage, activate, ...), whether it runs. The
    tasks' ``when:`` read one flag each and decide nothing."""
    service = found["service"]
    switch = bool(found["links"])
    found["steps"] = {
        # tasks/prepare.yml
        "recover": found["recover"] is not None,
        "take_wheels": found["wheelhouse"] is not None,
        # tasks/layout.yml
        "make_directories": bool(found["directories"]),
        # tasks/deploy.yml: a git source names its release once fetched.
        "fetch": found["release"] is None,
        # What the release changes in the locked packages: shown in check mode and with --diff.
        "compare": found["compare_locks"] is not None and (found["check_mode"] or diff_mode),
        "write_service": bool(found["files_to_write"]) or service["retire"]["record_before"] is not None,
        # The marks the activation settled, old releases and unused virtualenvs.
        "clean_up": bool(found["clear_marks"] or found["prune"]),
        "retire": bool(service["retire"]["units"]),
        # tasks/stage.yml: an archive or a git commit says what its lock is only once unpacked.
        "plan_again": found["release"] is not None and found["venv"] is None,
        # tasks/stage_build.yml
        "refuse_project": bool(found["release"] and found["release"]["missing"]),
        "install_wheelhouse": found["wheelhouse"] is not None and not found["check_mode"],
        # tasks/activate.yml
        "hooks_before_switch": bool(found["hooks"]["before_switch"]),
        "daemon_reload": bool(service["daemon_reload"] and service["manage"]),
        "precheck": found["precheck"] is not None,
        # tasks/candidates.yml: services of handover proxy hand their traffic to their candidates.
        "hand_over": found["precheck"] is not None and found["precheck"]["handover"] is not None,
        "switch": switch,
        # Something switched or (re)started; check mode starts nothing, so there is nothing to check.
        "check_health": bool(switch or service["units"]) and not found["check_mode"],
        "hooks_after_switch": switch and bool(found["hooks"]["after_switch"]) and not found["check_mode"],
        # tasks/healthcheck.yml
        "health_url": bool(settings["healthcheck_url"]),
        "health_command": bool(settings["healthcheck_command"]),
    }
    return found
