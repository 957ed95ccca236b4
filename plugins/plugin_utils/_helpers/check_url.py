# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helper (see plugin_utils/_helper.py): the HTTP health check of lockstep.poetry.app, one try
(the task retries). Asks for `url` with GET from the host itself, over TCP or through the Unix
socket `unix_socket` (the URL's host then only names the Host header, as with
ansible.builtin.uri's unix_socket option), and follows redirects as that module does by default
(at most 10); never through a proxy. Waits at most `timeout` seconds for each answer. HTTPS
certificates are checked against the host's trusted ones. Answers with the status and the URL
that gave it; failed unless the status is one of `status_code`."""
import base64
import http.client
import json
import socket
import ssl
import sys
from urllib.parse import urljoin, urlsplit

ARGUMENT_SPEC = {
    "url": {"type": "str", "required": True},
    "unix_socket": {"type": "str"},
    "status_code": {"type": "list", "elements": "int", "default": [200]},
    "timeout": {"type": "int", "default": 5},
}
# A request is the application's business: not sent in check mode.
RUNS_IN_CHECK_MODE = False

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10


def unix_stream(path, timeout):
    """A stream connected to the Unix socket path."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(path)
    return sock


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP through a Unix socket; host and port only name the Host header."""

    def __init__(self, path, host, port=None, timeout=None):
        super().__init__(host, port, timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = unix_stream(self.path, self.timeout)


class UnixHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS through a Unix socket; the certificate is checked for the URL's host."""

    def __init__(self, path, host, port=None, timeout=None, context=None):
        super().__init__(host, port, timeout=timeout, context=context)
        self.path = path

    def connect(self):
        self.sock = self._context.wrap_socket(unix_stream(self.path, self.timeout), server_hostname=self.host)


def is_http(url):
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def connection(url, unix_socket, timeout):
    parts = urlsplit(url)
    if not is_http(url):
        raise ValueError("it led to %s, which is not an http:// or https:// URL" % url)
    secure = parts.scheme == "https"
    context = ssl.create_default_context() if secure else None
    if unix_socket:
        if secure:
            return UnixHTTPSConnection(unix_socket, parts.hostname, parts.port, timeout=timeout, context=context)
        return UnixHTTPConnection(unix_socket, parts.hostname, parts.port, timeout=timeout)
    if secure:
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=context)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def get(url, unix_socket, timeout):
    """(status, location) of one GET of url."""
    parts = urlsplit(url)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    conn = connection(url, unix_socket, timeout)
    try:
        conn.request("GET", target, headers={"User-Agent": "lockstep.poetry health check"})
        # The status and the headers are the answer; the body is left unread (it may not end).
        response = conn.getresponse()
        return response.status, response.getheader("Location")
    finally:
        conn.close()


def main(args):
    url = args["url"]
    if not is_http(url):
        return {"changed": False, "failed": True, "url": url, "msg": "%s is not an http:// or https:// URL" % url}
    through = " through %s" % args["unix_socket"] if args["unix_socket"] else ""
    try:
        for _redirect in range(MAX_REDIRECTS + 1):
            status, location = get(url, args["unix_socket"], args["timeout"])
            if status not in REDIRECTS or not location:
                break
            url = urljoin(url, location)
        else:
            raise ValueError("more than %d redirects" % MAX_REDIRECTS)
    except (OSError, ValueError, http.client.HTTPException) as error:
        return {"changed": False, "failed": True, "url": url,
                "msg": "GET %s%s failed: %s" % (url, through, str(error) or type(error).__name__)}
    answer = {"changed": False, "status": status, "url": url}
    if status not in args["status_code"]:
        answer.update(failed=True, msg="GET %s%s answered %d, not %s" % (
            url, through, status, " or ".join(str(code) for code in args["status_code"])))
    return answer


if __name__ == "__main__":
    print(json.dumps(main(json.loads(base64.b64decode(sys.argv[1])))))
