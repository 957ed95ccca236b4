# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lock that lets one run at a time deploy an application to a host (lockstep.poetry.app).

The action lockstep.poetry.app_inspect takes it with its look at the host (the helper
inspect_app makes the lock file only if it does not exist) and the role releases it at the
end, whatever happened. The lock file says who holds it: the controller, the ansible-playbook
process and when it started, the user, since when. A run killed before it released the lock
leaves the file: the next run from the same controller sees that the process is gone and takes
the lock over; a run from another controller cannot tell, and says so (poetry_app_break_lock
takes it over anyway). Private to this collection: no compatibility promise."""

import datetime
import getpass
import os
import socket
import uuid


def process_started(pid):
    """When a process started (clock ticks since boot, from /proc), None where /proc does not
    say: with the pid, it tells the process apart from a later one that got the same pid."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            # The fields after the command's name, which is in parentheses and may hold spaces.
            return int(handle.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IOError, IndexError, ValueError):
        return None


def new_holder():
    """This run, as the lock file describes it: the ansible-playbook process is the parent of the
    worker that runs the action."""
    pid = os.getppid()
    return {
        "token": uuid.uuid4().hex,
        "controller": socket.gethostname(),
        "pid": pid,
        "pid_started": process_started(pid),
        "user": getpass.getuser(),
        "since": datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z",
    }


def ended(holder, hostname=None):
    """Whether the run that holds the lock has ended without releasing it, as far as this
    controller can tell: a run of this controller whose process is gone (or is another process
    now). A run of another controller, or a lock file that says nothing, is taken as running."""
    if not holder.get("token") or holder.get("controller") != (hostname or socket.gethostname()):
        return False
    pid = holder.get("pid")
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except OSError as error:
        # EPERM: it exists, as another user's process.
        return error.errno != 1
    return holder.get("pid_started") is not None and process_started(pid) != holder["pid_started"]


def describe(holder):
    """The run that holds a lock, for the user."""
    if not holder.get("token"):
        return "a run whose lock file says nothing about it"
    return "%s on controller %s (ansible-playbook process %s) since %s" % (
        holder.get("user"), holder.get("controller"), holder.get("pid"), holder.get("since"))


def held_message(name, hostname, lock):
    """Why this run stops: another run deploys the application to the host."""
    return ("Another run is deploying %s to %s: %s (lock %s). This run changed nothing. Run again once it has "
            "ended; if it was killed on another controller, run again with poetry_app_break_lock=true."
            % (name, hostname, describe(lock.get("holder") or {}), lock["path"]))
