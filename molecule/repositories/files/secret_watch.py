"""Run a command and fail if a secret shows up in its output or in any process's command line.

    secret_watch.py --secrets FILE [--secrets FILE...] --log LOG --expect TEXT -- COMMAND...

FILE holds one secret a line (read again when the command is over, so that a file that grows
meanwhile, such as the CodeArtifact stand-in's list of tokens, counts in full). While COMMAND
runs, the command lines (/proc/PID/cmdline) of COMMAND's processes and of every process in a
container (another PID namespace: the target host's) are read in a loop; other work on the
machine, such as tests that run beside this one, is left out. When it is over, its output (kept in LOG) and every command line seen
are searched for each secret, and for the HTTP Basic credentials built from it. TEXT must have
been seen in some command line, to show that the sampling caught the work it was meant to watch.
Exits 0 only when the command succeeded and no secret was found. Secrets are never printed: a
finding names the secret's file and line (FILE:LINE).
"""

import argparse
import base64
import os
import subprocess
import sys
import threading


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def command_lines(root):
    """The command lines of the processes running now that are `root` or below it, or in a
    container."""
    own_namespace = os.readlink("/proc/self/ns/pid")
    parents, lines, contained = {}, {}, set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            line = _read("/proc/%s/cmdline" % pid)
            # The parent is the 2nd field after the command name, which is in parentheses.
            parents[pid] = _read("/proc/%s/stat" % pid).rpartition(b")")[2].split()[1].decode()
            if os.readlink("/proc/%s/ns/pid" % pid) != own_namespace:
                contained.add(pid)
        except (OSError, IndexError):  # the process is gone, or not ours to read
            continue
        if line:
            lines[pid] = line.replace(b"\0", b" ").decode("utf-8", "replace").strip()

    def watched(pid):
        for _depth in range(64):
            if pid == root or pid in contained:
                return True
            pid = parents.get(pid)
            if pid in (None, "0", "1"):
                return False
        return False

    return set(line for pid, line in lines.items() if watched(pid))


def sample(root, seen, stop):
    # A short pause between rounds leaves the watched work most of the CPU; Poetry and the
    # modules live for far longer than a round.
    while not stop.wait(0.005):
        seen.update(command_lines(root))


def read_secrets(paths):
    """{label: secret} with the forms in which a secret travels (plain, in a Basic header)."""
    secrets = {}
    for path in paths:
        with open(path) as handle:
            for number, line in enumerate(handle, 1):
                secret = line.rstrip("\n")
                if len(secret) < 8:
                    continue
                label = "%s:%d" % (os.path.basename(path), number)
                secrets[label] = secret
                for user in ("aws", "lockstep"):
                    basic = base64.b64encode(("%s:%s" % (user, secret)).encode()).decode()
                    secrets["%s (Basic credentials of %s)" % (label, user)] = basic
    return secrets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets", action="append", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--expect", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    seen = set()
    stop = threading.Event()
    # The log may hold what leaked: only its owner may read it.
    with os.fdopen(os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        root = str(process.pid)
        sampler = threading.Thread(target=sample, args=(root, seen, stop), daemon=True)
        sampler.start()
        rc = process.wait()
    stop.set()
    sampler.join()
    with open(args.log, "rb") as log:
        output = log.read().decode("utf-8", "replace")

    secrets = read_secrets(args.secrets)

    def redacted(text):
        for label, secret in secrets.items():
            text = text.replace(secret, "<%s>" % label)
        return text

    findings = []
    for label, secret in secrets.items():
        if secret in output:
            findings.append("%s appears in the output (%s)" % (label, args.log))
        for line in seen:
            if secret in line:
                findings.append("%s appears in a command line: %s" % (label, redacted(line)[:400]))
    watched = [line for line in seen if args.expect in line]
    print("command exited with %d; %d distinct command lines sampled, %d with %r; %d output lines"
          % (rc, len(seen), len(watched), args.expect, output.count("\n")))
    for finding in findings:
        print("LEAK: " + finding)
    if not watched:
        print("FAILED: no command line with %r was seen; the sampling proves nothing" % args.expect)
    sys.exit(1 if rc or findings or not watched else 0)


if __name__ == "__main__":
    main()
