"""Transactions, watches, ACLs, auth and sessions through kazoo."""
import threading
import time

import pytest
from kazoo.client import KazooState
from kazoo.exceptions import BadVersionError, NoAuthError, RolledBackError
from kazoo.security import make_digest_acl, make_digest_acl_credential

from proxy import Proxy


def test_transaction_commits_all(zk):
    tx = zk.transaction()
    tx.create("/t", b"1")
    tx.create("/t/child", b"2")
    tx.set_data("/t", b"3")
    results = tx.commit()
    assert results[0] == "/t" and results[1] == "/t/child"
    assert zk.get("/t")[0] == b"3"


def test_transaction_is_all_or_nothing(zk):
    zk.create("/x", b"")
    tx = zk.transaction()
    tx.create("/x/new", b"")
    tx.check("/x", version=7)
    tx.delete("/x")
    results = tx.commit()
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], BadVersionError)
    assert zk.exists("/x/new") is None and zk.exists("/x") is not None


def test_data_watch_sees_every_change_in_order(zk):
    zk.create("/w", b"0")
    seen = []
    done = threading.Event()

    @zk.DataWatch("/w")
    def watch(data, stat):
        seen.append(None if data is None else data.decode())
        if data is None:
            done.set()

    for i in range(1, 4):
        zk.set("/w", str(i).encode())
        time.sleep(0.05)
    zk.delete("/w")
    assert done.wait(5)
    assert seen[0] == "0" and seen[-1] is None
    assert [v for v in seen if v is not None] == sorted(v for v in seen if v is not None)


def test_children_watch(zk):
    zk.create("/kids", b"")
    states = []
    changed = threading.Event()

    @zk.ChildrenWatch("/kids")
    def watch(children):
        states.append(sorted(children))
        if len(children) == 2:
            changed.set()

    zk.create("/kids/a", b"")
    zk.create("/kids/b", b"")
    assert changed.wait(5)
    assert states[0] == [] and states[-1] == ["a", "b"]


def test_digest_acl_and_auth(zkit_server, make_client):
    owner = make_client(auth_data=[("digest", "alice:pw")])
    acl = make_digest_acl("alice", "pw", all=True)
    path = owner.create("/acl-", b"secret", acl=[acl], sequence=True)
    assert owner.get(path)[0] == b"secret"
    stranger = make_client()
    with pytest.raises(NoAuthError):
        stranger.get(path)
    with pytest.raises(NoAuthError):
        stranger.set(path, b"x")
    acls, _ = owner.get_acls(path)
    assert acls[0].id.id == make_digest_acl_credential("alice", "pw")
    superuser = make_client(auth_data=[("digest", "super:secret")])
    assert superuser.get(path)[0] == b"secret"
    superuser.delete(path)


def test_session_resumes_after_connection_loss(zkit_server, make_client):
    proxy = Proxy((zkit_server.host, zkit_server.port))
    try:
        client = make_client(proxy.address, timeout=6)
        session = client.client_id
        path = client.create("/resume-", b"", ephemeral=True, sequence=True)
        fired = threading.Event()
        client.get(path, watch=lambda ev: fired.set())
        suspended = threading.Event()
        client.add_listener(lambda s: s == KazooState.SUSPENDED and suspended.set())
        proxy.cut()
        assert suspended.wait(5)
        deadline = time.time() + 10
        while client.state != KazooState.CONNECTED and time.time() < deadline:
            time.sleep(0.05)
        assert client.state == KazooState.CONNECTED
        assert client.client_id == session
        assert client.exists(path) is not None
        other = make_client()
        other.set(path, b"changed")
        assert fired.wait(5), "the watch must survive the reconnect"
    finally:
        proxy.close()


def test_session_expires_when_client_is_gone(zkit_server, make_client):
    proxy = Proxy((zkit_server.host, zkit_server.port))
    try:
        client = make_client(proxy.address, timeout=1.0)
        path = client.create("/expire-", b"", ephemeral=True, sequence=True)
        lost = threading.Event()
        client.add_listener(lambda s: s == KazooState.LOST and lost.set())
        proxy.cut(refuse=True)
        watcher = make_client()
        deadline = time.time() + 10
        while watcher.exists(path) is not None and time.time() < deadline:
            time.sleep(0.05)
        assert watcher.exists(path) is None, "ephemeral must go with the expired session"
        proxy.heal()
        assert lost.wait(10), "the client must learn its session expired"
    finally:
        proxy.close()
