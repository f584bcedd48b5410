"""The test OpenID provider (test/oidc/provider.mjs, the npm package oidc-provider) for the
integration and browser tests of sign-in through an identity provider (issue 20)."""
import pathlib
import socket
import subprocess
import threading
import time

import requests

TOP = pathlib.Path(__file__).resolve().parents[2]
PROVIDER = TOP / "test/oidc/provider.mjs"
SECRET = "carebridge-test-secret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Provider:
    def __init__(self, port, redirect_uri, post_logout_uri):
        """redirect_uri and post_logout_uri may list several, comma-separated."""
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}"
        if not (TOP / "test/oidc/node_modules/oidc-provider").is_dir():
            raise RuntimeError("the test OpenID provider is not installed: run scripts/bootstrap"
                               " (make check does)")
        self.proc = subprocess.Popen(
            ["node", str(PROVIDER), str(port), redirect_uri, post_logout_uri],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        for line in self.proc.stdout:
            if line.startswith("listening"):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the OpenID provider did not start")
        else:
            raise RuntimeError("the OpenID provider exited: " + self.proc.stdout.read())
        # keep reading what it prints, so a full pipe never stalls it
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def next_token(self, mode):
        r = requests.get(f"{self.issuer}/__test/next", params={"mode": mode}, timeout=10)
        assert r.status_code == 200, r.text

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)




def daemon_env(idp, cb_port):
    """The settings that point a daemon on cb_port at idp."""
    base = f"http://127.0.0.1:{cb_port}"
    return {
        "CAREBRIDGE_LISTEN_PORT": str(cb_port),
        "CAREBRIDGE_OIDC_ISSUER": idp.issuer,
        "CAREBRIDGE_OIDC_CLIENT_ID": "carebridge",
        "CAREBRIDGE_OIDC_CLIENT_SECRET": SECRET,
        "CAREBRIDGE_OIDC_REDIRECT_URI": f"{base}/api/v1/oidc/callback",
        "CAREBRIDGE_OIDC_POST_LOGOUT_REDIRECT_URI": f"{base}/login",
        "CAREBRIDGE_OIDC_BUTTON_LABEL": "Sign in with NHS Care Identity",
    }
