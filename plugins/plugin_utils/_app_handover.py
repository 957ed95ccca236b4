# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The handover of a listening service of lockstep.poetry.app (its setting ``handover``), for the
deploy planner (_app_plan.py): pure functions, no I/O.

With ``handover: restart`` (the default) the service takes its public socket from systemd and
restarts behind it. With ``handover: proxy`` the public socket starts systemd-socket-proxyd,
which forwards each new connection to a symbolic link, /run/<unit>/live.sock, resolved anew for
every connection: to the service's own socket (main.sock beside it) or to the socket of its
candidate (a release started beside it). A restart first points the link at a checked
candidate, waits for the connections already made (DRAIN_SECONDS), restarts the service with
no new connection reaching it, checks it, points the link back, waits again and only then stops
the candidate: no process is stopped while a new connection can reach it. Tests:
tests/unit/plugins/plugin_utils/test_app_plan_handover.py. Private to this collection."""

import posixpath

HANDOVERS = ("restart", "proxy")
# systemd's own proxy, in Debian's systemd package: /lib/systemd/ on Debian 11 and 12,
# /usr/lib/systemd/ on Debian 13, where /lib links to /usr/lib (merged /usr).
SOCKET_PROXYD = "/lib/systemd/systemd-socket-proxyd"
# How long the connections already forwarded to an instance get before it stops (seconds): a
# request that a client has sent is read and answered in far less.
DRAIN_SECONDS = 2
# The connections the proxy forwards at once (systemd-socket-proxyd's own default, written out
# in the unit so that the limit is seen there).
CONNECTIONS_MAX = 256


def proxied(service):
    """Whether a service's traffic goes through systemd-socket-proxyd."""
    return service.get("handover") == "proxy"


def runtime_dir(unit):
    return "/run/%s" % unit


def main_socket(unit):
    """Where the service of a proxied unit listens: a Unix socket systemd holds."""
    return posixpath.join(runtime_dir(unit), "main.sock")


def live_link(unit):
    """The link that the proxy connects through, to main.sock or to the candidate's socket."""
    return posixpath.join(runtime_dir(unit), "live.sock")


def unit_names(unit):
    """The units a proxied service adds: the proxy that its public socket starts, and its own
    socket."""
    return {"proxy": unit + "-proxy.service", "main_socket": unit + "-main.socket"}


def problems(where, unit, spec, healthcheck_url, other_units):
    """What does not fit in a service's handover, as messages (where: poetry_app_services.<name>)."""
    handover = spec.get("handover")
    if handover is None:
        return []
    if handover not in HANDOVERS:
        return ["%s: handover '%s' is unknown (known: %s)." % (where, handover, ", ".join(HANDOVERS))]
    if handover != "proxy":
        return []
    found = []
    if not spec.get("listen") or spec.get("schedule"):
        found.append("%s: handover proxy hands over the traffic of a service that listens: give it a listen "
                     "address, or leave handover out." % where)
    if not healthcheck_url:
        found.append("%s: handover proxy checks each instance on its own socket before it takes traffic, with "
                     "the path of poetry_app_healthcheck_url: set it." % where)
    taken = sorted(name for name in unit_names(unit).values() if name.rsplit(".", 1)[0] in other_units)
    if taken:
        found.append("%s: handover proxy adds the unit %s, which another service's unit has: rename that "
                     "service." % (where, ", ".join(taken)))
    return found


def proxy_service_lines(settings, unit):
    """The [Unit] and [Service] lines of the proxy that the public socket starts, as the
    application's user. The link is made on its first start (after a boot: /run is empty) and
    never replaced there, since a handover may have pointed it at the candidate."""
    names = unit_names(unit)
    unit_lines = ["Requires=%s.socket" % unit, "After=%s.socket" % unit,
                  "Wants=%s" % names["main_socket"], "After=%s" % names["main_socket"]]
    service_lines = [
        "User=%s" % settings["user"],
        "Group=%s" % settings["group"],
        "ExecStartPre=-+/bin/ln -s %s %s" % (posixpath.basename(main_socket(unit)), live_link(unit)),
        "ExecStart=%s --connections-max=%d %s" % (SOCKET_PROXYD, CONNECTIONS_MAX, live_link(unit)),
    ]
    return unit_lines, service_lines


def handed_over(services, actions, states):
    """The proxied services whose restart is handed over: those running that this activation
    restarts without restarting a socket of theirs (which stops them first)."""
    found = []
    for service in services:
        name = service["unit"] + ".service"
        mine = [action for action in actions if action["unit"] == name]
        if (proxied(service) and (states.get(name) or {}).get("active")
                and [action["state"] for action in mine] == ["restarted"]):
            found.append(service)
    return found


def _handback(services, candidate, unlink, drain):
    """How the traffic goes back to the services from their candidates: the services checked on
    their own sockets (mains), the links pointed back (to_mains), the candidates' units to stop
    after the drain, and the links to their release to remove (unlink)."""
    return {
        "units": [unit for s in services for unit in candidate(s)["units"]],
        "mains": [{"unit": s["unit"] + ".service", "socket": main_socket(s["unit"])} for s in services],
        "to_mains": {"links": [[live_link(s["unit"]), posixpath.basename(main_socket(s["unit"]))] for s in services],
                     "touch": None},
        "unlink": unlink,
        "drain": drain,
    }


def plan(services, candidate, candidate_links, unlink, drain=DRAIN_SECONDS):
    """The handover of services (each with its candidate, candidate(service): its unit, socket and units):
    the candidates to start and check, the links to point at them, and the way back (_handback);
    candidate_links: the links `candidate` and `candidate.venv` to the release the previous one
    runs (for a rollback), None without one."""
    if not services:
        return None
    return dict(_handback(services, candidate, unlink, drain),
                candidates=[candidate(s) for s in services],
                to_candidates={"links": [[live_link(s["unit"]), candidate(s)["socket"]] for s in services], "touch": None},
                rollback_links=candidate_links)


def stranded(services, candidate, live_links, unlink, drain=DRAIN_SECONDS):
    """The way back for the proxied services whose link a killed run left pointing at a
    candidate (live_links: the target of each link as the host has it, None where there is
    none), with their units to start first (a run killed while one restarted); None when every
    link points at its service's own socket or is not there yet (the proxy makes it). said: what
    the killed run left, for the message of a way back that fails."""
    own = posixpath.basename(main_socket(""))
    left = [s for s in services if proxied(s) and live_links.get(live_link(s["unit"])) not in (None, own)]
    if not left:
        return None
    start = [s["unit"] + ".service" for s in left]
    one = len(left) == 1
    said = "A run that was killed left the traffic of %s with %s (%s), which %s still" % (
        ", ".join(start), "its candidate" if one else "their candidates",
        ", ".join(candidate(s)["unit"] for s in left), "serves" if one else "serve")
    return dict(_handback(left, candidate, unlink, drain), start=start, said=said)
