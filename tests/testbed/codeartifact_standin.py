"""A local stand-in for AWS CodeArtifact, reached by boto3 through endpoint_url.

    codeartifact_standin.py start --dir DIR --packages PACKAGES_DIR
                                  start it (or keep the running one); state in DIR/state.json
    codeartifact_standin.py stop --dir DIR

It answers the two REST calls boto3 makes for Poetry users, with AWS's status codes and error
shapes, and serves the repository's PyPI endpoint itself:
- POST /v1/authorization-token (GetAuthorizationToken): checks the SigV4 signature against the
  access keys in state.json, hands out a fresh random token valid for the asked duration;
- GET /v1/repository/endpoint (GetRepositoryEndpoint, format pypi): the URL of
- /pypi/REPOSITORY/: a pypiserver over PACKAGES_DIR that accepts user "aws" with any token it
  handed out and that has not expired (several tokens are valid at once, as on AWS), and
  answers 401 without credentials and 403 with wrong ones.
Errors: unknown domain, owner or repository -> 404 ResourceNotFoundException; the key pair
"denied" in state.json -> 403 AccessDeniedException; an unknown access key -> 403
UnrecognizedClientException; a wrong secret -> 403 InvalidSignatureException; a duration out
of range -> 400 ValidationException. For retry tests, POST /_standin/throttle?count=N makes
the next N API calls answer 429 ThrottlingException; GET /_standin/stats counts the calls.
Every token handed out is also appended to DIR/tokens (mode 0600), for tests that check that no
token shows up in a log or a command line.
"""

import argparse
import json
import os
import re
import secrets
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

# The private index's daemon helpers: the stand-in keeps its state the same way (DIR/state.json
# with the pid of a process group).
from index import read_state, stop

DURATION_RANGE = (900, 43200)
# A token asked for with duration 0 lives as long as the caller's session; say one hour.
SESSION_SECONDS = 3600
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request, SignedHeaders=(?P<headers>[^,]+), Signature=(?P<signature>[0-9a-f]+)$"
)


def log(message):
    print("[codeartifact] %s" % message, file=sys.stderr)


class AwsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class StandIn:
    def __init__(self, config, packages, tokens_file):
        self.config = config
        self.tokens_file = tokens_file
        self.tokens = {}  # token -> expiry (epoch seconds)
        self.lock = threading.Lock()
        self.throttle = 0
        self.stats = {"GetAuthorizationToken": 0, "GetRepositoryEndpoint": 0, "throttled": 0}
        self.index = self._index_app(packages)

    def _index_app(self, packages):
        import pypiserver

        return pypiserver.app(
            roots=[str(packages)],
            authenticate=["download", "list", "update"],
            auther=self.accepts,
            disable_fallback=True,
        )

    def accepts(self, username, password):
        with self.lock:
            expiry = self.tokens.get(password)
        return username == "aws" and expiry is not None and expiry > time.time()

    # -- WSGI
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        prefix = "/pypi/%s" % self.config["repository"]
        if path == prefix or path.startswith(prefix + "/"):
            environ["SCRIPT_NAME"] = prefix
            environ["PATH_INFO"] = path[len(prefix):] or "/"
            return self.index(environ, start_response)
        try:
            status, body = self.api(environ, path)
        except AwsError as error:
            status, body = error.status, {"message": error.message}
            headers = [("x-amzn-ErrorType", error.code)]
        else:
            headers = []
        payload = json.dumps(body).encode()
        start_response("%d %s" % (status, "OK" if status == 200 else "Error"),
                       headers + [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(payload)))])
        return [payload]

    def api(self, environ, path):
        method = environ["REQUEST_METHOD"]
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        if path == "/_standin/throttle" and method == "POST":
            with self.lock:
                self.throttle = int(query.get("count", "1"))
            return 200, {"throttle": self.throttle}
        if path == "/_standin/stats":
            with self.lock:
                return 200, dict(self.stats)
        operation = {
            ("POST", "/v1/authorization-token"): "GetAuthorizationToken",
            ("GET", "/v1/repository/endpoint"): "GetRepositoryEndpoint",
        }.get((method, path))
        if operation is None:
            raise AwsError(404, "UnknownOperationException", "%s %s is not a CodeArtifact operation" % (method, path))
        with self.lock:
            self.stats[operation] += 1
            if self.throttle:
                self.throttle -= 1
                self.stats["throttled"] += 1
                raise AwsError(429, "ThrottlingException", "Rate exceeded")
        self.authenticate(environ)
        self.check_domain(query)
        if operation == "GetAuthorizationToken":
            return 200, self.authorization_token(query)
        return 200, self.repository_endpoint(environ, query)

    def authenticate(self, environ):
        match = AUTHORIZATION.match(environ.get("HTTP_AUTHORIZATION", ""))
        if not match:
            raise AwsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        keys = {self.config["access_key"]: self.config["secret_key"],
                self.config["denied_access_key"]: self.config["denied_secret_key"]}
        if match["key"] not in keys:
            raise AwsError(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
        if not hmac_compare(signature(environ, match, keys[match["key"]]), match["signature"]):
            raise AwsError(403, "InvalidSignatureException",
                           "The request signature we calculated does not match the signature you provided.")
        if match["key"] == self.config["denied_access_key"]:
            raise AwsError(403, "AccessDeniedException",
                           "User: arn:aws:iam::%s:user/denied is not authorized to perform: "
                           "codeartifact:GetAuthorizationToken" % self.config["owner"])

    def check_domain(self, query):
        owner = query.get("domain-owner", self.config["owner"])
        if query.get("domain") != self.config["domain"] or owner != self.config["owner"]:
            raise AwsError(404, "ResourceNotFoundException",
                           "Domain '%s' not found in account %s" % (query.get("domain"), owner))
        if "repository" in query and query["repository"] != self.config["repository"]:
            raise AwsError(404, "ResourceNotFoundException",
                           "Repository '%s' not found in domain '%s'" % (query["repository"], query["domain"]))

    def authorization_token(self, query):
        duration = int(query.get("duration", DURATION_RANGE[1]))
        if duration != 0 and not DURATION_RANGE[0] <= duration <= DURATION_RANGE[1]:
            raise AwsError(400, "ValidationException", "durationSeconds must be 0 or between 900 and 43200")
        token = "castandin-" + secrets.token_urlsafe(48)
        expiry = time.time() + (duration or SESSION_SECONDS)
        with self.lock:
            self.tokens = {t: e for t, e in self.tokens.items() if e > time.time()}
            self.tokens[token] = expiry
            fd = os.open(self.tokens_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a") as handle:
                handle.write(token + "\n")
        return {"authorizationToken": token, "expiration": expiry}

    def repository_endpoint(self, environ, query):
        if query.get("format") != "pypi":
            raise AwsError(400, "ValidationException", "this stand-in serves the pypi format only")
        return {"repositoryEndpoint": "http://%s/pypi/%s/" % (environ["HTTP_HOST"], self.config["repository"])}


def signature(environ, match, secret_key):
    """The SigV4 signature of the request as received, computed with botocore's signer."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    headers = {}
    for name in match["headers"].split(";"):
        key = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}.get(
            name, "HTTP_" + name.upper().replace("-", "_"))
        headers[name] = environ.get(key, "")
    url = "http://%s%s" % (environ["HTTP_HOST"], environ["PATH_INFO"])
    if environ.get("QUERY_STRING"):
        url += "?" + environ["QUERY_STRING"]
    request = AWSRequest(method=environ["REQUEST_METHOD"], url=url, headers=headers, data=body)
    request.context["timestamp"] = environ.get("HTTP_X_AMZ_DATE", "")
    signer = SigV4Auth(Credentials(match["key"], secret_key), match["service"], match["region"])
    return signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)


def hmac_compare(a, b):
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        log("%s %s" % (self.address_string(), format % args))


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve(directory, packages, config):
    standin = StandIn(config, packages, directory / "tokens")
    server = make_server("127.0.0.1", 0, standin, server_class=ThreadingServer, handler_class=QuietHandler)
    url = "http://127.0.0.1:%d" % server.server_port
    state = dict(config, url=url, endpoint_url=url, pid=os.getpid(), packages=str(packages),
                 index_url="%s/pypi/%s/simple/" % (url, config["repository"]))
    temporary = directory / "state.json.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2)
    os.replace(temporary, directory / "state.json")
    server.serve_forever()


def is_running(state):
    if state is None:
        return False
    try:
        with urllib.request.urlopen(state["url"] + "/_standin/stats", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def start(directory, packages, args):
    state = read_state(directory)
    if is_running(state):
        log("already running at %s" % state["url"])
        return
    (directory / "state.json").unlink(missing_ok=True)
    config = {
        "domain": args.domain,
        "owner": args.owner,
        "repository": args.repository,
        "region": args.region,
        "access_key": "AKIA" + secrets.token_hex(8).upper(),
        "secret_key": secrets.token_urlsafe(30),
        "denied_access_key": "AKIA" + secrets.token_hex(8).upper(),
        "denied_secret_key": secrets.token_urlsafe(30),
    }
    # The configuration holds secrets: it goes to the server through its stdin, not its argv.
    process = subprocess.Popen(
        [sys.executable, __file__, "serve", "--dir", str(directory), "--packages", str(packages)],
        stdin=subprocess.PIPE, stdout=open(directory / "standin.log", "ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.stdin.write(json.dumps(config).encode())
    process.stdin.close()
    for _attempt in range(100):
        state = read_state(directory)
        if state and state["pid"] == process.pid and is_running(state):
            log("running at %s (pid %d)" % (state["url"], process.pid))
            return
        if process.poll() is not None:
            sys.exit("the stand-in exited; see %s" % (directory / "standin.log"))
        time.sleep(0.1)
    sys.exit("the stand-in did not answer; see %s" % (directory / "standin.log"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "serve"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--packages", type=Path, help="the wheels the repository serves")
    parser.add_argument("--domain", default="lockstep")
    parser.add_argument("--owner", default="111122223333")
    parser.add_argument("--repository", default="python")
    parser.add_argument("--region", default="eu-west-1")
    args = parser.parse_args()
    args.dir = args.dir.resolve()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.action == "stop":
        stop(args.dir)
        return
    if args.packages is None:
        parser.error("--packages is required to %s" % args.action)
    if args.action == "start":
        start(args.dir, args.packages.resolve(), args)
    else:
        serve(args.dir, args.packages.resolve(), json.loads(sys.stdin.read()))


if __name__ == "__main__":
    main()
