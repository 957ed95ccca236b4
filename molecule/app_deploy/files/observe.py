# What a visitor of the host sees, in one look (run by tasks/observe.yml with the host's python3):
# where `current` points, the releases and virtualenvs, and what the shop front answers.
# argv: the application's root, the shop front's port. Prints one JSON object.
import json
import os
import sys
import urllib.request

root, port = sys.argv[1], sys.argv[2]


def directories(path):
    return sorted(e.name for e in os.scandir(path) if e.is_dir(follow_symlinks=False))


with urllib.request.urlopen("http://127.0.0.1:%s/" % port, timeout=10) as response:
    page = json.load(response)
print(json.dumps({
    "current": os.path.basename(os.readlink(os.path.join(root, "current"))),
    "releases": directories(os.path.join(root, "releases")),
    "venvs": directories(os.path.join(root, "venvs")),
    "page": page,
}))
