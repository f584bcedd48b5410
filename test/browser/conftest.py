"""Fixtures for the browser tests (helpers in browser_util.py).

The private PostgreSQL cluster and the fresh database are the integration
suite's own session fixtures (test/integration/conftest.py): migrated as the
owner role, served as the application role (database.url), as in production;
the daemon is one per module and can be restarted on the same port.
"""
import pytest

from browser_util import Browsers, Site, itg

cluster = itg.cluster
database = itg.database


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "serial: measures what parallel test workers or a loaded machine would disturb"
        " (timing, shared commits, valgrind); scripts/check runs these one at a time, last")


@pytest.fixture(scope="module")
def browsers():
    b = Browsers()
    yield b
    b.close()


@pytest.fixture(scope="module")
def site(database):
    """A daemon the test may restart on the same port (site.restart())."""
    env = {"CAREBRIDGE_SSE_RETRY": "300ms", "CAREBRIDGE_SSE_HEARTBEAT": "5s",
           "CAREBRIDGE_MLLP_PORT": "0"}
    s = Site(database.url, env)
    yield s
    s.close()


