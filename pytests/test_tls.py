"""TLS through kazoo's use_ssl: a zkit server serving only its secure
client port (secureClientPort with ssl.* settings), client certificates
checked against the trust store, and the x509 ACL scheme.

Certificates are made with the openssl command line (EC keys: fast)."""
from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.security import ACL, Id, Permissions

from conftest import BINARY

OPENSSL = shutil.which("openssl")
if OPENSSL is None:  # scripts/deps.sh installs it; without it TLS would go untested
    raise RuntimeError("the TLS tests need the openssl command: apt-get install -y openssl")

ALICE_DN = "CN=alice,O=zkit"
BOB_DN = "CN=bob,O=zkit"


def run(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d: Path, name: str) -> None:
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}", cwd=d)


def issue(d: Path, ca: str, name: str, subject: str) -> None:
    """Writes name.key (PKCS#8) and name.crt signed by ca."""
    (d / f"{name}.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=d)
    run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=d)


class TLSServer:
    """A TLS-only zkit server: its ready file holds the secure address."""

    def __init__(self, certs: Path) -> None:
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: run `make build` first")
        self.dir = Path(tempfile.mkdtemp(prefix="zkit-tls-"))
        keystore = self.dir / "server.pem"
        keystore.write_text((certs / "server.key").read_text() + (certs / "server.crt").read_text())
        cfg = self.dir / "zoo.cfg"
        cfg.write_text(
            "tickTime=200\n"
            f"dataDir={self.dir / 'data'}\n"
            "secureClientPort=2281\n"
            "maxClientCnxns=0\n"
            f"ssl.keyStore.location={keystore}\n"
            f"ssl.trustStore.location={certs / 'ca.pem'}\n"
            "ssl.clientAuth=need\n")
        ready = self.dir / "addr"
        self.log = open(self.dir / "zkit.log", "wb")
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", str(cfg), "--secure-client-addr", "127.0.0.1:0", "--ready-file", str(ready)],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("zkit did not start:\n" + (self.dir / "zkit.log").read_text())
            time.sleep(0.01)
        self.address = ready.read_text().strip()

    def log_text(self) -> str:
        self.log.flush()
        return (self.dir / "zkit.log").read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("certs")
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    issue(d, "ca", "server", "/O=zkit/CN=server")
    issue(d, "ca", "alice", "/O=zkit/CN=alice")
    issue(d, "ca", "bob", "/O=zkit/CN=bob")
    issue(d, "other-ca", "mallory", "/O=zkit/CN=mallory")
    return d


@pytest.fixture(scope="module")
def tls_server(certs: Path) -> Iterator[TLSServer]:
    server = TLSServer(certs)
    yield server
    server.stop()


@pytest.fixture
def connect(tls_server: TLSServer, certs: Path):
    made = []

    def make(who: str | None, timeout: float = 10, ca: str = "ca") -> KazooClient:
        kwargs = {"use_ssl": True, "ca": str(certs / f"{ca}.pem"), "verify_certs": True}
        if who:
            kwargs.update(certfile=str(certs / f"{who}.crt"), keyfile=str(certs / f"{who}.key"))
        c = KazooClient(hosts=tls_server.address, connection_retry={"max_tries": 0}, **kwargs)
        made.append(c)
        c.start(timeout=timeout)
        return c

    yield make
    for c in made:
        try:
            c.stop()
            c.close()
        except Exception:
            pass


def test_kazoo_over_tls(connect) -> None:
    zk = connect("alice")
    root = f"/tls-{uuid.uuid4().hex[:8]}"
    zk.create(f"{root}/a", b"hello", makepath=True)
    zk.create(f"{root}/seq-", b"", sequence=True)
    data, stat = zk.get(f"{root}/a")
    assert data == b"hello" and stat.version == 0
    assert sorted(zk.get_children(root))[0] == "a"
    zk.set(f"{root}/a", b"bye")
    assert zk.get(f"{root}/a")[0] == b"bye"


def test_x509_acl(connect) -> None:
    alice = connect("alice")
    bob = connect("bob")
    path = f"/alice-{uuid.uuid4().hex[:8]}"
    alice.create(path, b"secret", acl=[ACL(Permissions.ALL, Id("x509", ALICE_DN))])
    assert alice.get(path)[0] == b"secret"
    with pytest.raises(NoAuthError):
        bob.get(path)
    acl, _ = alice.get_acls(path)
    assert [(a.id.scheme, a.id.id) for a in acl] == [("x509", ALICE_DN)]
    # addauth x509 re-checks the connection's certificate.
    bob.add_auth("x509", "")
    with pytest.raises(NoAuthError):
        bob.set(path, b"mine now")


def test_bad_clients_are_refused(connect, tls_server: TLSServer) -> None:
    with pytest.raises(KazooTimeoutError):
        connect(None, timeout=1)  # no client certificate (ssl.clientAuth=need)
    with pytest.raises(KazooTimeoutError):
        connect("mallory", timeout=1)  # certificate from another CA
    log = tls_server.log_text()
    assert "closing secure client connection" in log
    assert "didn't provide a certificate" in log
    # The server is unharmed.
    assert connect("alice").exists("/") is not None
