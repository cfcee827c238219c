#!/usr/bin/env bash
# Installs everything the build and the tests need, from scratch:
# Go modules, a Python venv with the test dependencies, and Apache
# ZooKeeper from Debian (the oracle the differential tests compare with).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null || { echo "deps: Go is missing; install Go 1.26 or later" >&2; exit 1; }
command -v python3 >/dev/null || { echo "deps: python3 is missing" >&2; exit 1; }

go mod download

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

oracle_ok() {
    [ -f /usr/share/java/zookeeper.jar ] && [ -x /usr/lib/zookeeper/bin/cli_mt ] && command -v java >/dev/null &&
        command -v openssl >/dev/null
}
if ! oracle_ok; then
    pkgs="zookeeper zookeeper-bin"
    command -v java >/dev/null || pkgs="$pkgs default-jre-headless"
    command -v openssl >/dev/null || pkgs="$pkgs openssl" # the TLS tests make their certificates
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
    else
        echo "deps: Apache ZooKeeper (the test oracle) is missing and this user cannot install it." >&2
        echo "deps: run as root:  apt-get install -y $pkgs" >&2
        exit 1
    fi
fi
# Apache's Prometheus metrics provider (not packaged by Debian), for the
# tests that scrape Apache's /metrics (server/admin; they compare with a
# recorded scrape without it). Fetched from Maven Central when mvn is here.
prom_jars="org.apache.zookeeper:zookeeper-prometheus-metrics:3.8.0 io.prometheus:simpleclient:0.9.0 io.prometheus:simpleclient_common:0.9.0 io.prometheus:simpleclient_hotspot:0.9.0 io.prometheus:simpleclient_servlet:0.9.0"
if command -v mvn >/dev/null; then
    for a in $prom_jars; do
        IFS=: read -r g n v <<<"$a"
        [ -f "$HOME/.m2/repository/${g//.//}/$n/$v/$n-$v.jar" ] ||
            mvn -q -B dependency:get -Dartifact="$a" -Dtransitive=false >/dev/null 2>&1 ||
            echo "deps: could not fetch $a (the Prometheus comparison with Apache will use its recorded scrape)" >&2
    done
fi
echo "deps: ready (Go modules, .venv, Apache ZooKeeper $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null || echo '?'))"
