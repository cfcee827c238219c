"""The kazoo basics against a running ZooKeeper-compatible server.

Usage: python walkthrough.py HOST:PORT

Connects, creates a znode, reads it, changes it, lists children, watches
for a change, and cleans up, printing each step.
"""
import sys
import threading

from kazoo.client import KazooClient


def main(hosts: str) -> None:
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
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
