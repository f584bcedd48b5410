"""Fixtures for the Debian package tests (make test-deb; scripts/deb test).

The PostgreSQL fixtures are test/integration's (loaded from there, not copied);
`chroot` is a Debian 12 made once by debootstrap in build/deb-chroot and reused,
with the package under test installed fresh by apt (which fetches its
dependencies from the archive, as on a trust's server).
"""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location("cb_integration_conftest",
                                               TOP / "test/integration/conftest.py")
integration = importlib.util.module_from_spec(_spec)
sys.modules["cb_integration_conftest"] = integration
_spec.loader.exec_module(integration)
cluster = integration.cluster  # noqa: F401  (pytest fixtures)
database = integration.database  # noqa: F401

VERSION = (TOP / "debian/changelog").read_text().split("(", 1)[1].split(")", 1)[0]
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                      check=True).stdout.strip()
DEB = pathlib.Path(os.environ.get("CB_DEB", TOP / f"build/carebridge_{VERSION}_{ARCH}.deb"))
CHROOT = TOP / "build/deb-chroot/root"


def run(*args, check=True, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if check:
        assert r.returncode == 0, f"{args}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="session")
def deb():
    assert DEB.is_file(), f"{DEB} missing: run make deb"
    return DEB


@pytest.fixture(scope="session")
def unpacked(deb, tmp_path_factory):
    """The package's files (dpkg -x) and its control files (dpkg -e)."""
    d = tmp_path_factory.mktemp("unpacked")
    run("dpkg-deb", "-x", deb, d / "root")
    run("dpkg-deb", "-e", deb, d / "control")
    return d


def in_chroot(*args, check=True, **kw):
    return run("chroot", CHROOT, *args, check=check, **kw)


@pytest.fixture(scope="session")
def chroot(deb):
    """A clean Debian 12 with the package installed (apt-get install ./carebridge.deb)."""
    marker = CHROOT / ".cb-debootstrap-done"
    if not marker.exists():
        shutil.rmtree(CHROOT, ignore_errors=True)
        CHROOT.parent.mkdir(parents=True, exist_ok=True)
        # debootstrap's own default mirror: this takes minutes, once per machine
        run("debootstrap", "--variant=minbase", "bookworm", CHROOT, timeout=1800)
        marker.touch()
    if in_chroot("dpkg-query", "-W", "carebridge", check=False).returncode == 0:
        in_chroot("dpkg", "--purge", "carebridge")
    shutil.copy(deb, CHROOT / "tmp/carebridge.deb")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = in_chroot("apt-get", "install", "-y", "-q", "--no-install-recommends",
                  "/tmp/carebridge.deb", check=False, env=env, timeout=1200)
    if r.returncode != 0:  # lists older than the package's dependencies: refresh once
        in_chroot("apt-get", "update", "-q", env=env, timeout=600)
        in_chroot("apt-get", "install", "-y", "-q", "--no-install-recommends",
                  "/tmp/carebridge.deb", env=env, timeout=1200)
    return CHROOT
