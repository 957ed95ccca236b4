# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Poetry's failures mean: a sentence a user can act on, from the output of a command
that failed (the same wording in Poetry 1.8 and 2.x unless noted). Tests over captured output:
tests/unit/plugins/module_utils/test_install_output.py. Private to this collection: no
compatibility promise.
"""

import re

from ansible_collections.lockstep.poetry.plugins.module_utils._names import setting_variable

_AUTH_RE = re.compile(r"Source \((?P<source>[^)]+)\): Authorization error accessing (?P<url>\S+)")
# 1.8 shows requests' exception; 2.x says "All attempts to connect to HOST:PORT failed."
_UNREACHABLE_RES = [
    re.compile(r"HTTPS?ConnectionPool\(host='(?P<host>[^']+)', port=(?P<port>\d+)\): Max retries exceeded"),
    re.compile(r"All attempts to connect to (?P<host>[^\s:]+):?(?P<port>\d+)? failed"),
]
_STALE_LOCK_RE = re.compile(r"pyproject\.toml changed significantly since poetry\.lock was last generated")
_MISSING_GROUP_RE = re.compile(r"Group\(s\) not found: (?P<groups>.+?) \(via (?P<option>--[\w-]+)\)")
_MISSING_EXTRA_RE = re.compile(r"Extra \[(?P<extras>.+?)\] is not specified")
# A command that a plugin provides, run with a Poetry that lacks the plugin (Poetry 2.0 stopped
# bundling poetry-plugin-export, which Poetry 1.8 installs with itself).
_MISSING_COMMAND_RE = re.compile(r"The requested command (?P<command>\S+) does not exist")
PLUGIN_COMMANDS = {"export": "poetry-plugin-export", "shell": "poetry-plugin-shell"}
# Poetry 2.x installs the plugins a project requires ([tool.poetry.requires-plugins]) and its
# Poetry lacks from the project's package sources, pinning every package of Poetry's own
# environment: a source that has the plugin but not those packages fails the resolution.
_PROJECT_PLUGINS_RE = re.compile(
    r"required by the project but are not installed in Poetry's environment:\n(?P<plugins>(?:  - .+\n)+)"
    r"Installing Poetry plugins only for the current project"
)
_SOLVER_RE = re.compile(r"^Because .* version solving failed\.$", re.MULTILINE)
_PYTHON_RE = re.compile(
    r"Current Python version \((?P<version>[^)]+)\) is not allowed by the project \((?P<constraint>[^)]+)\)"
)


def explain_failure(out, err, sources=None):
    """A sentence saying why Poetry failed, from its output; None when the failure is not one
    of the known kinds. `sources` maps a source name to its URL, to name the source behind a
    host that cannot be reached."""
    text = "%s\n%s" % (out or "", err or "")
    reason = _reason(text, sources)
    match = _PROJECT_PLUGINS_RE.search(text)
    if match and "Installing dependencies from lock file" not in text:
        # It failed while installing the project's plugins, before the project's packages.
        plugins = ", ".join(line.strip()[2:] for line in match.group("plugins").splitlines())
        solver = _SOLVER_RE.search(text)
        why = reason or (solver.group(0) if solver else None)
        return (
            "Poetry could not install the plugins the project requires (%s) into the project's "
            ".poetry/plugins%s. It takes them, and the packages of Poetry's own environment at "
            "their installed versions, from the project's package sources: serve those packages "
            "there, or install the plugins into Poetry's environment, e.g. with the "
            "lockstep.poetry.poetry role's poetry_plugins" % (plugins, " (%s)" % why if why else "")
        )
    return reason


def _reason(text, sources):
    """What explain_failure() says of the kinds of failure any command can have."""
    match = _AUTH_RE.search(text)
    if match:
        source = match.group("source")
        return (
            "package source '%s' refused the credentials (HTTP 401 or 403 from %s): give Poetry "
            "valid credentials for it, e.g. %s and %s in the module's env "
            "option or http-basic.%s in Poetry's auth.toml"
            % (source, match.group("url"), setting_variable("http-basic.%s.username" % source),
               setting_variable("http-basic.%s.password" % source), source)
        )
    for pattern in _UNREACHABLE_RES:
        match = pattern.search(text)
        if match:
            host = match.group("host")
            where = host + (":" + match.group("port") if match.group("port") else "")
            names = [name for name, url in (sources or {}).items() if "//%s" % where in url or "@%s" % where in url]
            return "cannot reach the package index at %s%s: is the source's URL right and its server up?" % (
                where, " (source '%s')" % "', '".join(sorted(names)) if names else "")
    if _STALE_LOCK_RE.search(text):
        return (
            "poetry.lock is stale: pyproject.toml changed significantly since the lock was last "
            "generated; update the lock (lockstep.poetry.lock, or poetry lock) and ship it with the project"
        )
    match = _MISSING_GROUP_RE.search(text)
    if match:
        return "the project has no dependency group named %s (asked for with %s)" % (
            match.group("groups"), match.group("option"))
    match = _MISSING_EXTRA_RE.search(text)
    if match:
        return "the project declares no extra named %s" % match.group("extras")
    command = missing_plugin_command(text)
    if command:
        plugin = PLUGIN_COMMANDS[command]
        return (
            "this Poetry has no %s command: it comes with the plugin %s, which Poetry 2.x no longer "
            "installs with itself; install the plugin into Poetry's environment, e.g. with the "
            "lockstep.poetry.poetry role's poetry_plugins: [%s]" % (command, plugin, plugin)
        )
    match = _PYTHON_RE.search(text)
    if match:
        return (
            "the environment's Python %s does not satisfy the project's python requirement %s; "
            "use a virtualenv made with a matching interpreter" % (match.group("version"), match.group("constraint"))
        )
    return None


def missing_plugin_command(text):
    """The command Poetry lacks because a plugin of PLUGIN_COMMANDS provides it, from a failed
    command's output; None for any other failure."""
    match = _MISSING_COMMAND_RE.search(text or "")
    return match.group("command") if match and match.group("command") in PLUGIN_COMMANDS else None


def explain_project_plugin_command(command):
    """Why Poetry lacks `command` although the project requires its plugin (Poetry 2.x loads the
    project's .poetry/plugins for every command, but fills it only in `poetry install`/`sync`)."""
    plugin = PLUGIN_COMMANDS[command]
    return (
        "this Poetry has no %s command: the project requires the plugin %s "
        "([tool.poetry.requires-plugins]), but Poetry installs the plugins a project requires into "
        "its .poetry/plugins only when it installs the project (lockstep.poetry.install, poetry "
        "install or sync), not for %s; install the project first, or install the plugin into "
        "Poetry's environment, e.g. with the lockstep.poetry.poetry role's poetry_plugins: [%s]"
        % (command, plugin, command, plugin)
    )


def is_stale_lock(text):
    """Whether Poetry's output says the lock does not match pyproject.toml."""
    return bool(_STALE_LOCK_RE.search(text or ""))


def is_unreachable(text):
    """Whether Poetry's output says that it could not reach a package index."""
    return any(pattern.search(text or "") for pattern in _UNREACHABLE_RES)
