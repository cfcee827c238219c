"""Builds the zkit Python package (pybind/zkit) and, with the Go toolchain,
the two native pieces it bundles:

- zkit/libzkit.so — the in-process runtime (``go build -buildmode=c-shared
  ./cshim``), loaded with ctypes: one library for every CPython 3.8+; its C
  ABI is documented in zkit/libzkit.h (a copy of cshim/zkit.h);
- zkit/_bin/zkit  — the server binary (``go build ./server/cmd/zkit``), run
  by process mode and by the ``zkit`` console script for Go commands.

Both are built into the source tree (git ignores them) before build_py
copies the package, so ``pip install .``, ``pip install -e .`` and ``pip
wheel .`` all get them. The wheel is tagged ``py3-none-<platform>``: it holds
no Python extension module, only platform code. Set ``GO`` to choose the go
executable; ``ZKIT_GOFLAGS`` adds flags to both builds.
"""

from __future__ import annotations

import datetime
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 has its own bdist_wheel
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # older setuptools, with the wheel package
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent
PKG = ROOT / "pybind" / "zkit"

if sys.platform == "darwin":
    LIBRARY = "libzkit.dylib"
elif sys.platform == "win32":
    LIBRARY = "zkit.dll"
else:
    LIBRARY = "libzkit.so"
BINARY = "zkit.exe" if sys.platform == "win32" else "zkit"


def go_version_of_zkit() -> str:
    """version.Zkit from server/version, the one version of the project."""
    text = (ROOT / "server" / "version" / "version.go").read_text()
    m = re.search(r'Zkit\s*=\s*"([^"]+)"', text)
    if not m:
        raise SystemExit("setup.py: cannot find version.Zkit in server/version/version.go")
    return m.group(1)


def python_version_of_zkit() -> str:
    m = re.search(r'^__version__ = "([^"]+)"', (PKG / "__init__.py").read_text(), re.M)
    if not m:
        raise SystemExit("setup.py: cannot find __version__ in pybind/zkit/__init__.py")
    return m.group(1)


VERSION = go_version_of_zkit()
if python_version_of_zkit() != VERSION:
    raise SystemExit(
        f"setup.py: pybind/zkit/__init__.py says __version__ = {python_version_of_zkit()!r} "
        f"but server/version says {VERSION!r}: make them agree"
    )


def find_go() -> str:
    go = os.environ.get("GO", "go")
    path = shutil.which(go)
    if path is None:
        raise SystemExit(
            "\nzkit: building this package needs the Go toolchain (Go 1.26 or later), and "
            f"{go!r} is not on PATH.\n"
            "Install Go (https://go.dev/dl/ or your system's package), or set GO=/path/to/go, "
            "then run pip again.\n"
        )
    return path


def ldflags() -> str:
    commit = "unknown"
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
            or "unknown"
        )
    except (OSError, subprocess.CalledProcessError):
        pass
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    # -s -w: no symbol table or DWARF (a third smaller; panics still name
    # their functions).
    return f"-s -w -X zkit/server/version.Commit={commit} -X zkit/server/version.BuildDate={date}"


def build_go() -> None:
    """Builds libzkit and the zkit binary into pybind/zkit."""
    go = find_go()
    extra = shlex.split(os.environ.get("ZKIT_GOFLAGS", ""))
    env = dict(os.environ, CGO_ENABLED="1")
    (PKG / "_bin").mkdir(exist_ok=True)
    builds = [
        [
            "build",
            "-trimpath",
            "-buildmode=c-shared",
            *extra,
            "-ldflags",
            ldflags(),
            "-o",
            str(PKG / LIBRARY),
            "./cshim",
        ],
        ["build", "-trimpath", *extra, "-ldflags", ldflags(), "-o", str(PKG / "_bin" / BINARY), "./server/cmd/zkit"],
    ]
    for args in builds:
        print("zkit:", go, " ".join(args), flush=True)
        try:
            subprocess.run([go, *args], cwd=ROOT, env=env, check=True)
        except subprocess.CalledProcessError as e:
            raise SystemExit(
                f"zkit: `go {' '.join(args)}` failed (exit status {e.returncode}); "
                "the c-shared build also needs a C compiler (cgo)"
            ) from e
    # Go also wrote a generated header (libzkit.h) that only includes
    # cshim/zkit.h: replace it with the documented header itself.
    shutil.copyfile(ROOT / "cshim" / "zkit.h", PKG / "libzkit.h")


class BuildPyWithGo(build_py):
    """build_py that first builds the Go pieces into the package."""

    def run(self) -> None:
        build_go()
        self.__dict__.pop("data_files", None)  # list the package data again, with the new files
        super().run()


class PlatformDistribution(Distribution):
    """Platform code inside: install into platlib, wheel root not purelib."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    """A wheel for this platform but any Python 3: py3-none-<platform>."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):  # type: ignore[no-untyped-def]
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(
    version=VERSION,
    distclass=PlatformDistribution,
    cmdclass={"build_py": BuildPyWithGo, "bdist_wheel": PlatformWheel},
)
