"""The kazoo basics in one page, against a running ZooKeeper-compatible
server or ensemble.

Usage: python walkthrough.py [--hosts] HOST:PORT[,HOST:PORT...]
       python walkthrough.py            (starts a local 3-member zkit ensemble)

Connects, creates a znode, reads it, changes it, lists children, watches
for a change, and cleans up, printing each step. The step*.py scripts
explain each of these in more depth.
"""
import threading

from kazoo.client import KazooClient

from cluster import ensemble_hosts


def main(hosts: str) -> None:
    """Connect, create, read, update, list, watch and delete against `hosts`."""
    zk = KazooClient(hosts=hosts)
    zk.start(timeout=10)
    print(f"connected to {hosts}, session 0x{zk.client_id[0]:x}")

    zk.ensure_path("/tutorial")
    path = zk.create("/tutorial/config", b"color=blue")
    print(f"created {path}")

    data, stat = zk.get(path)
    print(f"read {data!r} (version {stat.version})")

    changed = threading.Event()

    @zk.DataWatch(path)
    def on_change(data, stat):
        if stat is not None and stat.version > 0:
            print(f"watch fired: {data!r} is now version {stat.version}")
            changed.set()

    stat = zk.set(path, b"color=green")
    print(f"set new data, version {stat.version}")
    if not changed.wait(5):
        raise SystemExit("the data watch did not fire")

    for i in range(3):
        zk.create("/tutorial/item-", b"", sequence=True)
    print(f"children of /tutorial: {sorted(zk.get_children('/tutorial'))}")

    zk.delete("/tutorial", recursive=True)
    print(f"deleted /tutorial; exists now: {zk.exists('/tutorial') is not None}")

    zk.stop()
    zk.close()
    print("done")


if __name__ == "__main__":
    with ensemble_hosts(__doc__) as hosts:
        main(hosts)
