"""Step 2: watches — be told when a znode changes instead of polling.

    python step2_watches.py [--hosts HOST:PORT,HOST:PORT,...]

A read can leave a *watch*: the server sends the client one event when the
znode (or its list of children) next changes. A watch fires once; to keep
watching, read again and set a new one. kazoo's DataWatch and ChildrenWatch
do that for you and call your function with the latest state.

Two clients here, as two processes would be: one watches, one writes. They
may be connected to different servers; ZooKeeper delivers every change to
every watcher in the order the changes were made.
"""

from __future__ import annotations

import threading
from typing import Any, List, Optional

from kazoo.client import KazooClient

from cluster import ensemble_hosts

WAIT = 10.0


def main(hosts: str) -> None:
    """One-shot watches, DataWatch and ChildrenWatch against `hosts`."""
    watcher = KazooClient(hosts=hosts)
    writer = KazooClient(hosts=hosts)
    watcher.start(timeout=15)
    writer.start(timeout=15)
    writer.ensure_path("/tutorial/watches")
    writer.create("/tutorial/watches/flag", b"off")

    # 1. A one-shot watch: get(..., watch=fn).
    events: List[Any] = []
    fired = threading.Event()

    def once(event: Any) -> None:
        events.append(event)
        fired.set()

    watcher.sync("/tutorial/watches/flag")  # catch up with the writer's server first
    watcher.get("/tutorial/watches/flag", watch=once)
    writer.set("/tutorial/watches/flag", b"on")
    if not fired.wait(WAIT):
        raise SystemExit("the watch did not fire")
    writer.set("/tutorial/watches/flag", b"off")  # nobody is watching any more
    # A client sees a watch event before it sees the change: once it reads
    # "off", an event for that change would already have arrived.
    watcher.sync("/tutorial/watches/flag")
    assert watcher.get("/tutorial/watches/flag")[0] == b"off"
    print(f"one-shot watch fired {len(events)} time(s): {events[0].type} on {events[0].path}")

    # 2. DataWatch: called at once with the current data, then on every change.
    seen: List[Optional[bytes]] = []
    changed = threading.Condition()

    @watcher.DataWatch("/tutorial/watches/flag")
    def on_flag(data: Optional[bytes], stat: Any) -> None:
        with changed:
            seen.append(data)
            changed.notify_all()

    for value in (b"red", b"green", b"blue"):
        n = len(seen)
        writer.set("/tutorial/watches/flag", value)
        with changed:  # wait for this change to arrive before the next one
            if not changed.wait_for(lambda: len(seen) > n, WAIT):
                raise SystemExit("DataWatch missed a change")
    print(f"DataWatch saw, in order: {[d.decode() if d else d for d in seen]}")

    # 3. ChildrenWatch: group membership with ephemeral nodes. A member that
    # goes away (closes its session, or crashes and its session expires)
    # disappears from the list, and the watcher hears of it.
    members: List[List[str]] = []

    @watcher.ChildrenWatch("/tutorial/watches")
    def on_members(children: List[str]) -> None:
        with changed:
            members.append(sorted(c for c in children if c.startswith("worker")))
            changed.notify_all()

    def wait_members(want: List[str]) -> None:
        with changed:
            if not changed.wait_for(lambda: members and members[-1] == want, WAIT):
                raise SystemExit(f"ChildrenWatch did not see {want}")
        print(f"members now: {want}")

    worker = KazooClient(hosts=hosts)
    worker.start(timeout=15)
    worker.create("/tutorial/watches/worker-1", ephemeral=True)
    writer.create("/tutorial/watches/worker-2", ephemeral=True)
    wait_members(["worker-1", "worker-2"])
    worker.stop()  # its session ends: its ephemeral node goes
    worker.close()
    wait_members(["worker-2"])

    writer.delete("/tutorial", recursive=True)
    for zk in (watcher, writer):
        zk.stop()
        zk.close()
    print("step 2 done")


if __name__ == "__main__":
    with ensemble_hosts(__doc__) as hosts:
        main(hosts)
