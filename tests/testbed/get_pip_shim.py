"""Stand-in for the pip bootstrap script that ansible-test downloads into empty virtualenvs.

ansible-test fetches get-pip.py from its own CI file host, which not every network reaches;
when that download fails it looks for a cached copy. This file is that copy: it installs pip
with the interpreter's bundled ensurepip, then installs the requested packages from the
configured package index, which is all the real script does for ansible-test.
"""

import subprocess
import sys

# Options only get-pip.py understands; pip itself would reject them.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
