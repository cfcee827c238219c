"""Member.kill() of an in-process ensemble returns while clients write.

Killing an in-process member crashes its in-memory file system under the
member's feet: its txn-log writer fails the next write and stops the
member, while Kill is stopping it too. Both paths must end — a kill that
waited for the writer while the writer waited for the kill would hang
Member.kill() and, after it, Ensemble.close().

A hung kill cannot be interrupted (the call is inside Go) and would hang
this test's own teardown, so the kills run in a child process with a
deadline: ten ensembles, each with four clients writing to every member
when its leader is killed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import os, threading
    import zkit
    from kazoo.client import KazooClient

    retry = {"max_tries": -1, "delay": 0.02, "backoff": 1.5, "max_delay": 0.3}
    for attempt in range(10):
        ens = zkit.Ensemble(3)
        addrs = [m.address for m in ens.members]
        stop = threading.Event()
        clients = []
        for i in range(4):
            zk = KazooClient(hosts=",".join(addrs[(i + k) % 3] for k in range(3)), randomize_hosts=False,
                             connection_retry=retry, command_retry=retry)
            zk.start(timeout=10)
            zk.ensure_path(f"/n{i}")
            clients.append(zk)
        # Each writer reports its first few writes: the kill comes once
        # every client has writes going through its member.
        written = threading.Semaphore(0)

        def write(zk, path):
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    zk.set_async(path, str(n).encode()).get(timeout=2)
                except Exception:
                    continue
                if n <= 5:
                    written.release()

        writers = [threading.Thread(target=write, args=(zk, f"/n{i}"), daemon=True) for i, zk in enumerate(clients)]
        for t in writers:
            t.start()
        for _ in range(5 * len(writers)):
            if not written.acquire(timeout=10):
                print(f"attempt {attempt}: the writers stalled before the kill", flush=True)
                os._exit(4)
        leader = ens.leader
        done = threading.Event()
        threading.Thread(target=lambda: (leader.kill(), done.set()), daemon=True).start()
        if not done.wait(5):
            print(f"attempt {attempt}: Member.kill() of leader {leader.id} did not return within 5 s", flush=True)
            os._exit(3)
        stop.set()
        for t in writers:
            t.join(5)
        for zk in clients:
            zk.stop()
            zk.close()
        ens.close()
    print("every kill returned", flush=True)
    """
)


def test_inprocess_kill_of_leader_under_write_load_returns() -> None:
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=100)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"the kills did not finish within 100 s: {e.stdout!r}") from None
    out = proc.stdout.strip()
    if proc.returncode == 3:
        pytest.fail(f"in-process Member.kill() hung under write load: {out}", pytrace=False)
    assert proc.returncode == 0, f"the child failed (exit {proc.returncode}): {out}\n{proc.stderr[-3000:]}"
    assert out.endswith("every kill returned")
