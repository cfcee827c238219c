"""Step 4: leader election — exactly one candidate in charge, and a new one
when it goes away.

    python step4_election.py [--hosts HOST:PORT,HOST:PORT,...]

(Not to be confused with the election *inside* the ensemble, which picks
the ZooKeeper server that orders writes. This one is for your
application: which of your processes runs the scheduler, say.)

kazoo's Election uses the same ephemeral sequential nodes as the lock: the
candidate with the lowest node leads, the next one watches it. When the
leader's session ends — it steps down, crashes, or is cut off long enough
for its session to expire — its node goes and the next candidate takes
over. A leader that loses its session must stop acting as leader: kazoo
tells it with the LOST state.
"""

from __future__ import annotations

import threading
from typing import Dict, List

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException

from cluster import ensemble_hosts

WAIT = 15.0


def main(hosts: str) -> None:
    """Three candidates; leadership passes down the line as leaders go."""
    names = ["candidate-a", "candidate-b", "candidate-c"]
    led: List[str] = []
    cond = threading.Condition()
    clients: Dict[str, KazooClient] = {}
    step_down: Dict[str, threading.Event] = {n: threading.Event() for n in names}

    def lead(name: str) -> None:
        # Called by Election.run once this candidate wins. Lead until told
        # to step down, or until the session is lost.
        with cond:
            led.append(name)
            cond.notify_all()
        print(f"{name} is the leader")
        step_down[name].wait(WAIT)

    def candidate(name: str) -> None:
        zk = clients[name]
        zk.add_listener(lambda state: step_down[name].set() if state == KazooState.LOST else None)
        try:
            zk.Election("/tutorial/election", name).run(lead, name)
        except KazooException:
            print(f"{name} is gone (its client was closed)")

    # An observer watches the line of candidates form (a ChildrenWatch).
    observer = KazooClient(hosts=hosts)
    observer.start(timeout=15)
    observer.ensure_path("/tutorial/election")
    line: List[int] = [0]

    @observer.ChildrenWatch("/tutorial/election")
    def on_line(children: List[str]) -> None:
        with cond:
            line[0] = len(children)
            cond.notify_all()

    threads = []
    for name in names:
        zk = KazooClient(hosts=hosts)
        zk.start(timeout=15)
        clients[name] = zk
        t = threading.Thread(target=candidate, args=(name,))
        t.start()
        threads.append(t)
        # One at a time, so that the line is a, b, c.
        with cond:
            if not cond.wait_for(lambda: line[0] >= len(threads), WAIT):
                raise SystemExit(f"{name} did not join the election")
    print(f"contenders, in line: {observer.Election('/tutorial/election').contenders()}")

    def wait_leader(n: int) -> str:
        with cond:
            if not cond.wait_for(lambda: len(led) >= n, WAIT):
                raise SystemExit(f"no leader number {n}")
            return led[n - 1]

    first = wait_leader(1)
    # The leader steps down: the next in line takes over.
    step_down[first].set()
    second = wait_leader(2)
    # The next leader's process "crashes": we close its client, its session
    # ends, its node goes, and the last candidate takes over.
    clients[second].stop()
    step_down[second].set()
    third = wait_leader(3)
    step_down[third].set()
    for t in threads:
        t.join(WAIT)
    print(f"leaders, in order: {led}")
    if led != names:
        raise SystemExit("leadership did not pass down the line")
    observer.delete("/tutorial", recursive=True)
    for zk in [observer, *clients.values()]:
        zk.stop()
        zk.close()
    print("step 4 done")


if __name__ == "__main__":
    with ensemble_hosts(__doc__) as hosts:
        main(hosts)
