"""Step 3: a distributed lock — one worker at a time, across machines.

    python step3_lock.py [--hosts HOST:PORT,HOST:PORT,...]

kazoo's Lock is ZooKeeper's lock recipe. To take the lock, a client creates
an *ephemeral sequential* node under the lock's path
(/tutorial/lock/<id>__lock__0000000003); the lowest number holds the lock,
and every other contender watches the node just before its own, so a
release wakes exactly one waiter (no herd). Because the nodes are
ephemeral, a holder that crashes releases the lock when its session ends.

Here three workers — each with its own client, as separate processes would
be — update a shared balance with read-modify-write. Without the lock,
concurrent updates would overwrite each other; with it, none is lost.
"""

from __future__ import annotations

import threading
from typing import List

from kazoo.client import KazooClient
from kazoo.exceptions import LockTimeout

from cluster import ensemble_hosts

WORKERS = 3
DEPOSITS = 5


def worker(hosts: str, name: str, errors: List[str]) -> None:
    """One worker process: its own client, DEPOSITS deposits under the lock."""
    zk = KazooClient(hosts=hosts)
    zk.start(timeout=15)
    try:
        lock = zk.Lock("/tutorial/lock", identifier=name)
        for _ in range(DEPOSITS):
            with lock:  # blocks until this worker holds the lock
                # Read, add, write back: safe only while holding the lock.
                balance = int(zk.get("/tutorial/balance")[0])
                zk.set("/tutorial/balance", str(balance + 10).encode())
        print(f"{name} made {DEPOSITS} deposits")
    except Exception as e:  # reported by main
        errors.append(f"{name}: {e!r}")
    finally:
        zk.stop()
        zk.close()


def main(hosts: str) -> None:
    """Runs the workers, checks no deposit was lost, and shows a lock timeout."""
    zk = KazooClient(hosts=hosts)
    zk.start(timeout=15)
    zk.create("/tutorial/balance", b"0", makepath=True)

    errors: List[str] = []
    threads = [threading.Thread(target=worker, args=(hosts, f"worker-{i}", errors)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors or any(t.is_alive() for t in threads):
        raise SystemExit(f"workers failed: {errors}")

    zk.sync("/tutorial/balance")  # the workers wrote through other servers
    balance = int(zk.get("/tutorial/balance")[0])
    print(f"balance: {balance} (expected {WORKERS * DEPOSITS * 10})")
    if balance != WORKERS * DEPOSITS * 10:
        raise SystemExit("an update was lost: the lock did not exclude")

    # Who holds it, who waits: the contenders, in line order.
    mine = zk.Lock("/tutorial/lock", identifier="main")
    with mine:
        other = KazooClient(hosts=hosts)
        other.start(timeout=15)
        try:
            other.Lock("/tutorial/lock", identifier="impatient").acquire(timeout=0.5)
        except LockTimeout:
            print("while main holds the lock, another client's acquire(timeout=0.5) gives up: LockTimeout")
        print(f"contenders now: {mine.contenders()} (the impatient one withdrew its node)")
        other.stop()
        other.close()

    zk.delete("/tutorial", recursive=True)
    zk.stop()
    zk.close()
    print("step 3 done")


if __name__ == "__main__":
    with ensemble_hosts(__doc__) as hosts:
        main(hosts)
