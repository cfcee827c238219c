"""Step 1: connect to a ZooKeeper ensemble and create, read, update and
delete znodes.

    python step1_connect_crud.py [--hosts HOST:PORT,HOST:PORT,...]

ZooKeeper keeps a small tree of *znodes*, each with a path ("/app/config"),
a few bytes of data and a *stat* (versions, the zxids that created and last
changed it, ...). An ensemble of servers keeps identical copies of the tree:
one server is elected *leader*, the others are *followers*; every write goes
through the leader, which numbers it with a *zxid* and commits it once a
majority (2 of 3) has logged it. Reads are served by whichever server the
client is connected to.
"""

from __future__ import annotations

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError

from cluster import ensemble_hosts, roles, split_zxid


def main(hosts: str) -> None:
    # Each server says what it is: one leader, the rest followers.
    """Connects to the ensemble at `hosts` and walks through the znode operations."""
    for address, mode in roles(hosts).items():
        print(f"  {address} is a {mode}")

    # A client opens a *session* with one server of the list. The session
    # survives moving to another server; it ends when the client closes it
    # or stays silent past the session timeout.
    zk = KazooClient(hosts=hosts)
    zk.start(timeout=15)
    print(f"connected: session 0x{zk.client_id[0]:x}")

    # Create: a znode needs its parent; ensure_path creates the missing ones.
    zk.ensure_path("/tutorial")
    path = zk.create("/tutorial/config", b"color=blue")
    print(f"created {path}")
    try:
        zk.create("/tutorial/config", b"again")
    except NodeExistsError:
        print("creating it again fails: NodeExistsError")

    # Read: the data and its stat. Every write gets the next zxid.
    data, stat = zk.get(path)
    print(f"read {data!r}: version {stat.version}, created at zxid {split_zxid(stat.czxid)}")

    # Update, with optimistic concurrency: set(version=N) succeeds only if
    # nobody changed the node since we read version N.
    stat = zk.set(path, b"color=green", version=stat.version)
    print(f"set it: now version {stat.version}, zxid {split_zxid(stat.mzxid)}")
    try:
        zk.set(path, b"color=red", version=0)  # stale: it is at version 1 now
    except BadVersionError:
        print("a set with a stale version fails: BadVersionError")

    # Sequential nodes get a unique, increasing suffix from their parent:
    # the basis of queues, locks and elections.
    for _ in range(3):
        zk.create("/tutorial/job-", b"", sequence=True)
    print(f"children: {sorted(zk.get_children('/tutorial'))}")

    # Ephemeral nodes live as long as the session that created them.
    zk.create("/tutorial/alive", b"", ephemeral=True)
    owner = zk.exists("/tutorial/alive").ephemeralOwner
    print(f"ephemeral /tutorial/alive belongs to session 0x{owner:x}")

    # Delete (recursive removes the children first).
    zk.delete("/tutorial", recursive=True)
    print(f"deleted /tutorial; exists now: {zk.exists('/tutorial') is not None}")

    zk.stop()
    zk.close()
    print("step 1 done")


if __name__ == "__main__":
    with ensemble_hosts(__doc__) as hosts:
        main(hosts)
