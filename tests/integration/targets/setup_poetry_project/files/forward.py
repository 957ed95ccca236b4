"""Forward a free 127.0.0.1 port to the host and port of URL until killed.

    forward.py URL STATE_FILE

Writes "<URL with the forwarder's port> <pid>" to STATE_FILE once listening.
"""

import os
import socket
import sys
import threading
from urllib.parse import urlsplit, urlunsplit


def pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    url, state_file = sys.argv[1:3]
    parts = urlsplit(url)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    forwarded = urlunsplit(parts._replace(netloc="127.0.0.1:%d" % port))
    with open(state_file + ".tmp", "w") as handle:
        handle.write("%s %d\n" % (forwarded, os.getpid()))
    os.rename(state_file + ".tmp", state_file)
    while True:
        client, _address = listener.accept()
        upstream = socket.create_connection((parts.hostname, parts.port))
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=pipe, args=(source, target), daemon=True).start()


if __name__ == "__main__":
    main()
