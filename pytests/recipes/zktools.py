"""Helpers for the recipe tests: thread runners that surface failures,
critical-section detectors, bounded waits with clear messages, and a way to
find the member a kazoo client is connected to."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import traceback
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, TypeVar

from kazoo.client import KazooClient, KazooState

import zkit

T = TypeVar("T")

#: Retries for kazoo clients in these tests: quick (an election takes tens
#: of milliseconds here) and unbounded in count; every wait in a test is
#: bounded by its own deadline and by pytest-timeout instead.
FAST_RETRY: Dict[str, Any] = {"max_tries": -1, "delay": 0.02, "backoff": 1.5, "max_jitter": 0.2, "max_delay": 0.3}

#: Seconds any single wait may take before the test fails with a message.
WAIT = 20.0


def client_kwargs(**extra: Any) -> Dict[str, Any]:
    """KazooClient keyword arguments for these tests."""
    kw: Dict[str, Any] = {
        "connection_retry": dict(FAST_RETRY),
        "command_retry": dict(FAST_RETRY),
        "randomize_hosts": False,
    }
    kw.update(extra)
    return kw


def rotated_hosts(addresses: Sequence[str], i: int, chroot: str = "") -> str:
    """The connect string with member i % n first: with randomize_hosts off,
    client i connects to that member and fails over to the next ones."""
    n = len(addresses)
    order = [addresses[(i + k) % n] for k in range(n)]
    return ",".join(order) + chroot


def wait_until(check: Callable[[], Optional[T]], what: str, timeout: float = WAIT, interval: float = 0.01) -> T:
    """Polls `check` until it returns something truthy (for state that has no
    event to wait on, like a member's role); fails with `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {got!r})")
        time.sleep(interval)


def wait_event(event: threading.Event, what: str, timeout: float = WAIT) -> None:
    """Waits for `event`; fails with `what` after `timeout` seconds."""
    if not event.wait(timeout):
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Workers:
    """Threads that record their exceptions: `join()` re-raises the first
    one (with its traceback) and fails, naming them, if any hangs."""

    def __init__(self) -> None:
        self.threads: List[threading.Thread] = []
        self.errors: List[str] = []
        self.results: Dict[str, Any] = {}
        self._lock = threading.Lock()

    def spawn(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
        """Runs fn(*args, **kwargs) on a thread named `name`."""
        def run() -> None:
            try:
                r = fn(*args, **kwargs)
                with self._lock:
                    self.results[name] = r
            except BaseException:
                with self._lock:
                    self.errors.append(f"{name}:\n{traceback.format_exc()}")

        t = threading.Thread(target=run, name=name, daemon=True)
        self.threads.append(t)
        t.start()
        return t

    def join(self, timeout: float = 60.0) -> Dict[str, Any]:
        """Waits for every thread; fails on the first error or a hung thread.
        Returns each thread's result by name."""
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        hung = [t.name for t in self.threads if t.is_alive()]
        if self.errors:
            raise AssertionError("worker failed: " + self.errors[0])
        if hung:
            raise AssertionError(f"workers still running after {timeout}s: {hung}")
        return self.results


class CriticalSection:
    """Counts who is inside a guarded section at once; records every moment
    more than `limit` were inside (the guarantee a lock or semaphore gives)."""

    def __init__(self, limit: int = 1) -> None:
        self.limit = limit
        self.inside: List[str] = []
        self.max_inside = 0
        self.entries = 0
        self.violations: List[List[str]] = []
        self.history: List[str] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self, who: str) -> Iterator[None]:
        """Marks `who` inside the section for the `with` block."""
        with self._lock:
            self.inside.append(who)
            self.entries += 1
            self.history.append(who)
            self.max_inside = max(self.max_inside, len(self.inside))
            if len(self.inside) > self.limit:
                self.violations.append(list(self.inside))
        try:
            yield
        finally:
            with self._lock:
                self.inside.remove(who)

    def assert_respected(self) -> None:
        """Fails if more than `limit` were ever inside at once."""
        assert not self.violations, (
            f"more than {self.limit} inside at once {len(self.violations)} times, e.g. {self.violations[:3]}"
        )


class StateLog:
    """Records a kazoo client's connection states (a listener)."""

    def __init__(self, client: KazooClient) -> None:
        self.states: List[str] = []
        self.lost = threading.Event()
        self.suspended = threading.Event()
        self.reconnected = threading.Event()
        self._cond = threading.Condition()
        client.add_listener(self._listen)

    def _listen(self, state: str) -> None:
        with self._cond:
            self.states.append(state)
            if state == KazooState.LOST:
                self.lost.set()
            elif state == KazooState.SUSPENDED:
                self.suspended.set()
            elif state == KazooState.CONNECTED and self.suspended.is_set():
                self.reconnected.set()
            self._cond.notify_all()

    def count(self, state: str) -> int:
        """How many times the client entered `state`."""
        with self._cond:
            return self.states.count(state)


def peer_port(client: KazooClient) -> Optional[int]:
    """The client port of the member `client` is connected to right now, or
    None while it is not connected (kazoo exposes no public accessor)."""
    conn = getattr(client, "_connection", None)
    sock = getattr(conn, "_socket", None)
    if sock is None or not client.connected:
        return None
    try:
        return int(sock.getpeername()[1])
    except OSError:
        return None


def connected_member(ens: zkit.Ensemble, client: KazooClient, timeout: float = WAIT) -> zkit.Member:
    """The member `client` is connected to (waits until it is connected)."""
    port = wait_until(lambda: peer_port(client), "the client to be connected", timeout)
    for m in ens.members:
        if m.port == port:
            return m
    raise AssertionError(f"client connected to port {port}, which is no member of {ens.hosts}")


def wait_connected_elsewhere(client: KazooClient, not_port: int, what: str, timeout: float = WAIT) -> int:
    """Waits until `client` is connected to a member other than `not_port`."""
    return wait_until(
        lambda: (p if (p := peer_port(client)) not in (None, not_port) else None), what, timeout
    )


def wait_leader(ens: zkit.Ensemble, not_id: Optional[int] = None, timeout: float = WAIT) -> zkit.Member:
    """Waits until a member (other than `not_id`) leads, with a quorum."""

    def check() -> Optional[zkit.Member]:
        m = ens.leader
        return m if m is not None and m.id != not_id else None

    return wait_until(check, f"a leader other than member {not_id}", timeout)


def tree(client: KazooClient, path: str) -> Dict[str, bytes]:
    """Every node under path (relative paths, path itself as '') with its data."""
    out: Dict[str, bytes] = {}

    def walk(p: str) -> None:
        data, _ = client.get(p)
        out[p[len(path):]] = data
        for c in client.get_children(p):
            walk(f"{p.rstrip('/')}/{c}")

    walk(path)
    return out


class LockWorkload:
    """Clients taking turns under one kazoo Lock, each turn a read-modify-
    write of a counter znode with no version check — exact only if the lock
    really excludes. Runs until stopped; survives connection losses
    (kazoo retries), so faults can be injected while it runs."""

    def __init__(self, zks: Sequence[KazooClient], lock_path: str = "/lock", counter: str = "/counter") -> None:
        self.zks = list(zks)
        self.lock_path = lock_path
        self.counter = counter
        self.cs = CriticalSection()
        self.done = 0
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self.workers = Workers()
        self.zks[0].retry(self.zks[0].create, counter, b"0", makepath=True)

    def start(self) -> "LockWorkload":
        """Starts one locking thread per client."""
        for i, zk in enumerate(self.zks):
            self.workers.spawn(f"locker{i}", self._run, i, zk)
        return self

    def _run(self, i: int, zk: KazooClient) -> None:
        lock = zk.Lock(self.lock_path, f"locker{i}")
        while not self._stop.is_set():
            with lock:
                with self.cs.hold(f"locker{i}"):
                    value = int(zk.retry(zk.get, self.counter)[0])
                    zk.retry(zk.set, self.counter, str(value + 1).encode())
            with self._cond:
                self.done += 1
                self._cond.notify_all()

    def wait_progress(self, turns: int, what: str = "", timeout: float = WAIT) -> int:
        """Waits until `turns` more turns were taken; returns the total."""
        with self._cond:
            target = self.done + turns
            if not self._cond.wait_for(lambda: self.done >= target or bool(self.workers.errors), timeout):
                raise AssertionError(f"the lock workload stalled at {self.done} turns {what}")
            if self.workers.errors:
                raise AssertionError("lock workload failed: " + self.workers.errors[0])
            return self.done

    def stop_and_check(self, reader: KazooClient) -> int:
        """Stops the workers and checks mutual exclusion held throughout:
        no overlap seen, and no update of the counter lost."""
        self._stop.set()
        self.workers.join()
        self.cs.assert_respected()
        reader.retry(reader.sync, self.counter)
        value = int(reader.retry(reader.get, self.counter)[0])
        assert value == self.done, f"{self.done} turns under the lock but the counter says {value}: updates lost"
        return value


class Seen:
    """What a watch callback saw, with a condition to wait on."""

    def __init__(self) -> None:
        self.items: List[Any] = []
        self.cond = threading.Condition()

    def add(self, item: Any) -> None:
        """Records `item` and wakes the waiters."""
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def add_sorted(self, children: List[str]) -> None:
        """A ChildrenWatch function."""
        self.add(sorted(children))

    def add_config(self, data: Optional[bytes], stat: Any) -> None:
        """A DataWatch function for JSON configs: records their seq."""
        if data is not None:
            self.add(json.loads(data)["seq"])

    def wait_for(self, pred: Callable[[List[Any]], bool], what: str, timeout: float = WAIT) -> None:
        """Waits until `pred(items)` holds; fails with `what` after `timeout`."""
        with self.cond:
            if not self.cond.wait_for(lambda: pred(self.items), timeout):
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; saw {self.items[-5:]}")


class Leadership:
    """What the contenders' leader functions report: who leads now (at
    most one, checked), the order they led in, and a per-contender event to
    make the leader step down."""

    def __init__(self, names: List[str]) -> None:
        self.cs = CriticalSection(limit=1)
        self.order: List[str] = []
        self.current: Optional[str] = None
        self.cond = threading.Condition()
        self.abdicate: Dict[str, threading.Event] = {n: threading.Event() for n in names}

    def lead(self, name: str) -> None:
        """An Election leader function: leads as `name` until told to abdicate."""
        with self.cs.hold(name):
            with self.cond:
                self.current = name
                self.order.append(name)
                self.cond.notify_all()
            self.abdicate[name].wait(30)
            with self.cond:
                if self.current == name:
                    self.current = None
                self.cond.notify_all()

    def wait_leader(self, timeout: float = 20) -> str:
        """Waits until someone leads; returns who."""
        with self.cond:
            if not self.cond.wait_for(lambda: self.current is not None, timeout):
                raise AssertionError(f"no leader within {timeout}s (led so far: {self.order})")
            assert self.current is not None
            return self.current


def cache_snapshot(cache: Any, path: str) -> Dict[str, bytes]:
    """What a kazoo TreeCache holds under path, in the shape of tree()."""
    out: Dict[str, bytes] = {}

    def walk(p: str) -> None:
        node = cache.get_data(p)
        if node is None:
            return
        out[p[len(path):]] = node.data
        for c in cache.get_children(p) or ():
            walk(f"{p.rstrip('/')}/{c}")

    walk(path)
    return out
