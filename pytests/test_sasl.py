"""SASL DIGEST-MD5 through kazoo's sasl_options (pure-sasl), against a zkit
server started from a zoo.cfg that names a JAAS file."""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import (AuthFailedError, ConnectionClosedError, NoAuthError,
                              SessionClosedRequireSaslError)
from kazoo.protocol.states import KeeperState
from kazoo.security import make_acl

from conftest import ZkitProcess

JAAS = """
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_bob="bobsecret"
       user_alice="alicesecret"
       user_admin="adminsecret";
};
"""

SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"


def start_server(tmp: Path, extra: str = "") -> ZkitProcess:
    jaas = tmp / "jaas.conf"
    jaas.write_text(JAAS)
    return ZkitProcess(extra_config=(
        f"java.security.auth.login.config={jaas}\n"
        f"authProvider.1={SASL_PROVIDER}\n"
        "superUser=admin\n" + extra))


@pytest.fixture(scope="module")
def sasl_server(tmp_path_factory) -> Iterator[ZkitProcess]:
    server = start_server(tmp_path_factory.mktemp("sasl"))
    yield server
    server.stop()


def sasl(user: str, password: str) -> dict:
    return {"mechanism": "DIGEST-MD5", "username": user, "password": password}


@pytest.fixture
def clients(sasl_server: ZkitProcess):
    made = []

    def make(sasl_options: dict | None = None) -> KazooClient:
        c = KazooClient(hosts=sasl_server.address, sasl_options=sasl_options,
                        connection_retry={"max_tries": 0})
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()
        c.close()


def test_sasl_acl(clients):
    path = f"/sasl-{uuid.uuid4().hex[:8]}"
    bob = clients(sasl("bob", "bobsecret"))
    bob.start(timeout=10)
    bob.create(path, b"secret", acl=[make_acl("sasl", "bob", all=True)])
    assert bob.get(path)[0] == b"secret"
    assert bob.get_acls(path)[0] == [make_acl("sasl", "bob", all=True)]

    # A client without SASL is refused by the ACL.
    plain = clients()
    plain.start(timeout=10)
    with pytest.raises(NoAuthError):
        plain.get(path)
    # So is another SASL user...
    alice = clients(sasl("alice", "alicesecret"))
    alice.start(timeout=10)
    with pytest.raises(NoAuthError):
        alice.get(path)
    # ... but not the SASL super user (superUser=admin).
    admin = clients(sasl("admin", "adminsecret"))
    admin.start(timeout=10)
    assert admin.get(path)[0] == b"secret"
    admin.set(path, b"changed")
    assert bob.get(path)[0] == b"changed"


def wait_auth_failed(c: KazooClient) -> None:
    """Starts c and waits until its connection reports AUTH_FAILED (kazoo
    then closes the client, so the state itself does not last)."""
    seen = []
    callback = c._session_callback

    def spy(state):
        seen.append(state)
        return callback(state)

    c._session_callback = spy
    c.start_async()
    deadline = time.monotonic() + 10
    while KeeperState.AUTH_FAILED not in seen:
        assert time.monotonic() < deadline, seen
        time.sleep(0.02)


@pytest.mark.parametrize("user,password", [("bob", "wrong"), ("mallory", "bobsecret")])
def test_sasl_bad_login(clients, user, password):
    c = clients(sasl(user, password))
    wait_auth_failed(c)
    with pytest.raises((AuthFailedError, ConnectionClosedError)):
        c.get("/")
    # The server is unharmed.
    ok = clients(sasl("bob", "bobsecret"))
    ok.start(timeout=10)
    assert ok.exists("/")


def test_sasl_required(tmp_path):
    server = start_server(tmp_path, "sessionRequireClientSASLAuth=true\n")
    made = []
    try:
        bob = KazooClient(hosts=server.address, sasl_options=sasl("bob", "bobsecret"))
        made.append(bob)
        bob.start(timeout=10)
        bob.create("/only-sasl", b"x")
        plain = KazooClient(hosts=server.address, connection_retry={"max_tries": 0})
        made.append(plain)
        plain.start(timeout=10)
        with pytest.raises(SessionClosedRequireSaslError):
            plain.get("/only-sasl")
    finally:
        for c in made:
            c.stop()
            c.close()
        server.stop()
