"""The private index behind TLS with client-certificate verification: nginx from Debian.

    tls_index.py start --dir DIR --upstream URL   start it (or keep the running one)
    tls_index.py stop --dir DIR

Makes a test CA in DIR, a server certificate for 127.0.0.1 and localhost, and a client
certificate, and runs nginx on a free port of 127.0.0.1 in front of URL (the pypiserver of
index.py). nginx refuses clients without a certificate signed by the CA (400) and passes the
rest, with their Authorization header, to the index, which still asks for its own credentials.
State in DIR/state.json: url, simple_url, ca (the CA bundle to trust), client_cert (one PEM file
with the client certificate and its key, as Poetry's certificates.NAME.client-cert wants it),
pid. nginx is the one on PATH, else Debian's package unpacked into DIR/../nginx (no service is
installed or started).
"""

import argparse
import json
import os
import pwd
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# The private index's helpers: the same state file and process handling.
from index import free_port, read_state, stop

# Python 3.13 verifies strictly (VERIFY_X509_STRICT): leaf certificates need an authority key
# identifier and proper key usages.
LEAF_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = {usage}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
{extra}
"""

NGINX_CONF = """\
worker_processes 1;
error_log {dir}/error.log;
pid {dir}/nginx.pid;
{user}
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/server.pem;
        ssl_certificate_key {dir}/server.key;
        ssl_client_certificate {dir}/ca.pem;
        ssl_verify_client on;
        client_max_body_size 50m;
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_buffering off;
        }}
    }}
}}
"""


def log(message):
    print("[tls-index] %s" % message, file=sys.stderr)


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certificates(directory):
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate."""
    (directory / "server.ext").write_text(
        LEAF_EXTENSIONS.format(usage="serverAuth", extra="subjectAltName = IP:127.0.0.1, DNS:localhost"))
    (directory / "client.ext").write_text(LEAF_EXTENSIONS.format(usage="clientAuth", extra=""))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3", "-subj", "/CN=lockstep test CA",
            "-keyout", str(directory / "ca.key"), "-out", str(directory / "ca.pem"),
            # On top of the default v3_ca extensions (CA:TRUE, key identifiers).
            "-addext", "keyUsage = critical, keyCertSign, cRLSign")
    for name, subject in (("server", "/CN=127.0.0.1"), ("client", "/CN=lockstep test client")):
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                "-keyout", str(directory / ("%s.key" % name)), "-out", str(directory / ("%s.csr" % name)))
        openssl("x509", "-req", "-days", "3", "-in", str(directory / ("%s.csr" % name)),
                "-CA", str(directory / "ca.pem"), "-CAkey", str(directory / "ca.key"), "-CAcreateserial",
                "-extfile", str(directory / ("%s.ext" % name)), "-out", str(directory / ("%s.pem" % name)))
    bundle = directory / "client-bundle.pem"
    bundle.write_text((directory / "client.pem").read_text() + (directory / "client.key").read_text())
    for key in directory.glob("*.key"):
        key.chmod(0o600)
    bundle.chmod(0o600)


def nginx_binary(cache):
    """nginx from PATH, else Debian's package unpacked (not installed) into cache."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found:
        return found
    binary = cache / "usr" / "sbin" / "nginx"
    if not binary.exists():
        log("unpacking Debian's nginx package into %s" % cache)
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", "-q", "nginx"], cwd=str(cache), check=True,
                       stdout=subprocess.DEVNULL)
        package = sorted(cache.glob("nginx_*.deb"))[-1]
        subprocess.run(["dpkg-deb", "-x", str(package), str(cache)], check=True)
    return str(binary)


def is_running(state):
    if state is None:
        return False
    context = ssl.create_default_context(cafile=state["ca"])
    context.load_cert_chain(state["client_cert"])
    try:
        # Without the index's credentials, the index itself answers 401: nginx passed us on.
        urllib.request.urlopen(state["simple_url"], context=context, timeout=5)
    except urllib.error.HTTPError as error:
        return error.code == 401
    except OSError:
        return False
    return True


def start(directory, upstream):
    state = read_state(directory)
    if is_running(state):
        log("already running at %s" % state["url"])
        return
    nginx = nginx_binary(directory.parent / "nginx")
    make_certificates(directory)
    for temporary in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / "tmp" / temporary).mkdir(parents=True, exist_ok=True)
    user = ""
    if os.geteuid() == 0:
        # nginx's workers drop root; they only need their temporary directories.
        user = "user nobody nogroup;"
        nobody = pwd.getpwnam("nobody")
        for path in (directory / "tmp").rglob("*"):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
    port = free_port()
    (directory / "nginx.conf").write_text(NGINX_CONF.format(
        dir=directory, port=port, upstream=upstream.rstrip("/"), user=user))
    process = subprocess.Popen(
        [nginx, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", str(directory / "error.log"),
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=open(directory / "error.log", "ab"), start_new_session=True,
    )
    url = "https://127.0.0.1:%d/" % port
    state = {
        "url": url,
        "simple_url": url + "simple/",
        "ca": str(directory / "ca.pem"),
        "client_cert": str(directory / "client-bundle.pem"),
        "pid": process.pid,
    }
    for _attempt in range(100):
        if is_running(state):
            break
        if process.poll() is not None:
            sys.exit("nginx exited; see %s" % (directory / "error.log"))
        time.sleep(0.1)
    else:
        sys.exit("nginx did not answer on %s; see %s" % (url, directory / "error.log"))
    fd = os.open(directory / "state.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2)
    log("running at %s (pid %d)" % (url, process.pid))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--upstream", help="the index's URL, e.g. http://127.0.0.1:PORT/")
    args = parser.parse_args()
    args.dir = args.dir.resolve()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.action == "stop":
        stop(args.dir)
    elif args.upstream is None:
        parser.error("--upstream is required to start")
    else:
        start(args.dir, args.upstream)


if __name__ == "__main__":
    main()
