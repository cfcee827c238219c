"""Step 5: configuration management — one place to change a setting, every
service picks it up.

    python step5_config.py [--hosts HOST:PORT,HOST:PORT,...]

The configuration lives in a znode. Each service reads it with a DataWatch
and is called again whenever it changes: no restarts, no polling. Because
ZooKeeper applies writes in one order (the zxid order) and delivers watch
events in that order, a service never goes back to an older configuration;
it may skip an intermediate one if several changes land at once, but it
always ends on the latest.

Related settings that must change together go in one *transaction*
(multi): all of its operations apply, or none does.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Dict, List, Optional

from kazoo.client import KazooClient

from cluster import ensemble_hosts

WAIT = 15.0
SERVICES = 3


class Service:
    """A service that applies the shared configuration as it changes."""

    def __init__(self, hosts: str, name: str, applied: threading.Condition) -> None:
        self.name = name
        self.versions: List[int] = []
        self.config: Dict[str, Any] = {}
        self._applied = applied
        self.zk = KazooClient(hosts=hosts)
        self.zk.start(timeout=15)
        self.zk.DataWatch("/tutorial/app/config", self.on_config)

    def on_config(self, data: Optional[bytes], stat: Any) -> None:
        """The DataWatch function: applies each new configuration."""
        if data is None:
            return  # not published yet
        with self._applied:
            self.config = json.loads(data)
            self.versions.append(self.config["version"])
            self._applied.notify_all()

    def close(self) -> None:
        """Closes the service's client."""
        self.zk.stop()
        self.zk.close()


def main(hosts: str) -> None:
    """Publishes configurations, waits for every service to apply them, then
    changes two znodes in one transaction."""
    admin = KazooClient(hosts=hosts)
    admin.start(timeout=15)
    admin.ensure_path("/tutorial/app")

    applied = threading.Condition()
    services = [Service(hosts, f"service-{i}", applied) for i in range(SERVICES)]

    def publish(config: Dict[str, Any]) -> None:
        data = json.dumps(config).encode()
        if admin.exists("/tutorial/app/config"):
            admin.set("/tutorial/app/config", data)
        else:
            admin.create("/tutorial/app/config", data)

    def wait_everywhere(version: int) -> None:
        with applied:
            if not applied.wait_for(lambda: all(s.versions[-1:] == [version] for s in services), WAIT):
                raise SystemExit(f"not every service got version {version}")
        print(f"all {SERVICES} services run config version {version}")

    publish({"version": 1, "pool_size": 4, "feature_x": False})
    wait_everywhere(1)
    publish({"version": 2, "pool_size": 8, "feature_x": False})
    wait_everywhere(2)
    # A burst of changes: services may skip some, never go backwards.
    for version in range(3, 11):
        publish({"version": version, "pool_size": 8, "feature_x": version % 2 == 0})
    wait_everywhere(10)
    for s in services:
        if s.versions != sorted(set(s.versions)):
            raise SystemExit(f"{s.name} went back to an older config: {s.versions}")
        print(f"{s.name} applied versions {s.versions}")

    # Two znodes that must change together: a transaction.
    admin.create("/tutorial/app/schema", b"1")
    tx = admin.transaction()
    tx.set_data("/tutorial/app/schema", b"2")
    tx.set_data("/tutorial/app/config", json.dumps({"version": 11, "pool_size": 8, "schema": 2}).encode())
    # Operations see the ones before them: after its own set, the schema is
    # at version 1, so this check fails and the whole transaction with it.
    tx.check("/tutorial/app/schema", 0)
    results = tx.commit()
    print(f"transaction with a failing check: {[type(r).__name__ for r in results]} (nothing applied)")
    tx = admin.transaction()
    tx.check("/tutorial/app/schema", 0)
    tx.set_data("/tutorial/app/schema", b"2")
    tx.set_data("/tutorial/app/config", json.dumps({"version": 11, "pool_size": 8, "schema": 2}).encode())
    results = tx.commit()
    print(f"transaction: {len(results)} operations applied together")
    wait_everywhere(11)

    for s in services:
        s.close()
    admin.delete("/tutorial", recursive=True)
    admin.stop()
    admin.close()
    print("step 5 done")


if __name__ == "__main__":
    with ensemble_hosts(__doc__) as hosts:
        main(hosts)
