"""Transactions (multi) and ACLs with digest auth, with clients on every
member of an ensemble."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import (
    AuthFailedError,
    BadVersionError,
    NoAuthError,
    NodeExistsError,
    NoNodeError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.security import (
    CREATOR_ALL_ACL,
    READ_ACL_UNSAFE,
    Permissions,
    make_acl,
    make_digest_acl,
    make_digest_acl_credential,
)

from .zktools import Workers

Clients = Callable[..., List[KazooClient]]


# -- transactions -------------------------------------------------------------


def test_transaction_is_all_or_nothing(clients: Clients) -> None:
    a, b = clients(2)
    a.create("/c", b"c0")
    a.create("/d")
    t = a.transaction()
    t.create("/new1", b"1")
    t.create("/new2", b"2")
    t.check("/c", 5)  # wrong version: everything must be rolled back
    results = t.commit()
    assert [type(r) for r in results] == [RolledBackError, RolledBackError, BadVersionError]
    b.sync("/")
    assert b.exists("/new1") is None and b.exists("/new2") is None

    t = a.transaction()
    t.create("/new1", b"1")
    t.set_data("/c", b"c1", version=0)
    t.delete("/d")
    t.check("/c", 1)
    results = t.commit()
    assert results[0] == "/new1" and results[2] is True and results[3] is True
    b.sync("/")
    new1, c = b.exists("/new1"), b.exists("/c")
    assert b.get("/c")[0] == b"c1" and b.exists("/d") is None
    # One transaction, one zxid: every change in it carries the same one.
    assert new1.czxid == c.mzxid

    # A failing op in the middle stops it all, and the error says which.
    t = b.transaction()
    t.delete("/new1")
    t.create("/c")  # exists
    t.set_data("/c", b"never")
    results = t.commit()
    # (ops before the failure: rolled back; after it: not even tried)
    assert [type(r) for r in results] == [RolledBackError, NodeExistsError, RuntimeInconsistency]
    a.sync("/")
    assert a.exists("/new1") is not None and a.get("/c")[0] == b"c1"


def test_transactions_compare_and_swap_under_contention(clients: Clients) -> None:
    zks = clients(5)
    zks[0].create("/x", b"0")
    zks[0].create("/log")
    rounds = 10
    conflicts: Dict[int, int] = {}

    def worker(i: int, zk: KazooClient) -> None:
        done = conflicts[i] = 0
        while done < rounds:
            data, stat = zk.get("/x")
            value = int(data)
            t = zk.transaction()
            t.check("/x", stat.version)
            t.set_data("/x", str(value + 1).encode())
            t.create("/log/entry-", str(value).encode(), sequence=True)
            results = t.commit()
            if any(isinstance(r, Exception) for r in results):
                assert isinstance(results[0], BadVersionError), results
                conflicts[i] += 1
                continue
            done += 1

    w = Workers()
    for i, zk in enumerate(zks):
        w.spawn(f"t{i}", worker, i, zk)
    w.join()
    total = 5 * rounds
    zks[1].sync("/")
    assert int(zks[1].get("/x")[0]) == total
    entries = zks[1].get_children("/log")
    values = sorted(int(zks[1].get(f"/log/{e}")[0]) for e in entries)
    # Each committed swap wrote exactly one log entry, each from a distinct
    # value: the check, the set and the create were applied together.
    assert values == list(range(total))


# -- ACLs and digest auth -------------------------------------------------------


ALICE = ("digest", "alice:alice-pw")
BOB = ("digest", "bob:bob-pw")


def test_digest_acl_is_enforced_on_every_member(clients: Clients) -> None:
    owner = clients(1, auth_data=[ALICE])[0]
    owner.create("/secret", b"s", acl=[make_digest_acl("alice", "alice-pw", all=True)])
    anon = clients(3)
    bobs = clients(3, auth_data=[BOB])
    alices = clients(3, auth_data=[ALICE])
    for zk in anon + bobs:
        zk.sync("/secret")
        with pytest.raises(NoAuthError):
            zk.exists("/secret")  # READ, since ZooKeeper 3.8.4 / 3.9
        with pytest.raises(NoAuthError):
            zk.get("/secret")
        with pytest.raises(NoAuthError):
            zk.set("/secret", b"x")
        with pytest.raises(NoAuthError):
            zk.create("/secret/child")
    for i, zk in enumerate(alices):
        zk.sync("/secret")
        assert zk.get("/secret")[0] in (b"s", f"by-{i - 1}".encode())
        zk.set("/secret", f"by-{i}".encode())
        zk.create(f"/secret/child-{i}")
    owner.sync("/secret")
    assert owner.get("/secret")[0] == b"by-2"
    assert sorted(owner.get_children("/secret")) == ["child-0", "child-1", "child-2"]
    # Children do not inherit the ACL: they were created with the open one.
    assert anon[0].get("/secret/child-0")[0] == b""


def test_world_read_and_per_permission_acls(clients: Clients) -> None:
    owner, anon = clients(2, auth_data=[ALICE])[0], clients(1)[0]
    acl = list(READ_ACL_UNSAFE) + [make_digest_acl("alice", "alice-pw", all=True)]
    owner.create("/doc", b"public", acl=acl)
    # create but not delete, for anyone
    owner.create("/box", acl=[make_acl("world", "anyone", create=True, read=True)])
    anon.sync("/")
    assert anon.get("/doc")[0] == b"public"
    with pytest.raises(NoAuthError):
        anon.set("/doc", b"defaced")
    anon.create("/box/item")
    with pytest.raises(NoAuthError):
        anon.delete("/box/item")
    # Deleting is a permission of the parent, not of the node: the chroot
    # is open to all, so anyone may delete /doc, which they cannot write.
    anon.delete("/doc")
    owner.sync("/doc")
    assert owner.exists("/doc") is None


def test_creator_all_acl_and_set_acls(clients: Clients) -> None:
    alice, bob = clients(2, auth_data=[ALICE])[0], clients(2, auth_data=[BOB])[1]
    alice.create("/mine", b"m", acl=CREATOR_ALL_ACL)
    acls, stat = alice.get_acls("/mine")
    digest = make_digest_acl_credential("alice", "alice-pw")
    assert [(a.id.scheme, a.id.id, a.perms) for a in acls] == [("digest", digest, Permissions.ALL)]
    bob.sync("/mine")
    with pytest.raises(NoAuthError):
        bob.get("/mine")
    with pytest.raises(NoAuthError):
        bob.set_acls("/mine", READ_ACL_UNSAFE)
    with pytest.raises(BadVersionError):
        alice.set_acls("/mine", acls + list(READ_ACL_UNSAFE), version=stat.aversion + 1)
    alice.set_acls("/mine", acls + list(READ_ACL_UNSAFE), version=stat.aversion)
    bob.sync("/mine")
    assert bob.get("/mine")[0] == b"m"
    assert alice.get_acls("/mine")[1].aversion == stat.aversion + 1


def test_add_auth_during_a_session(clients: Clients) -> None:
    owner, other = clients(2, auth_data=[ALICE])[0], clients(2)[1]
    owner.create("/private", b"p", acl=[make_digest_acl("alice", "alice-pw", read=True)])
    other.sync("/private")
    with pytest.raises(NoAuthError):
        other.get("/private")
    other.add_auth(*BOB)
    with pytest.raises(NoAuthError):
        other.get("/private")
    other.add_auth(*ALICE)  # identities add up within a session
    assert other.get("/private")[0] == b"p"


def test_unknown_auth_scheme_fails_the_session(clients: Clients) -> None:
    zk = clients(1)[0]
    with pytest.raises(AuthFailedError):
        zk.add_auth("no-such-scheme", "whatever")


def test_super_digest_passes_every_acl(fresh: Any, clients_on: Any) -> None:
    ens = fresh(super_digest=make_digest_acl_credential("super", "root-pw"))
    alice = clients_on(ens, 1, auth_data=[ALICE])[0]
    alice.create("/locked", b"l", acl=[make_digest_acl("alice", "alice-pw", read=True)])
    anon = clients_on(ens, 1, first=1)[0]
    anon.sync("/locked")
    with pytest.raises(NoAuthError):
        anon.get("/locked")
    for i, root in enumerate(clients_on(ens, 3, auth_data=[("digest", "super:root-pw")])):
        root.sync("/locked")
        assert root.get("/locked")[0] == (b"l" if i == 0 else f"root-{i - 1}".encode())
        root.set("/locked", f"root-{i}".encode())
    root.delete("/locked")
    alice.sync("/locked")
    with pytest.raises(NoNodeError):
        alice.get("/locked")
