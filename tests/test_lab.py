"""`make lab` starts JupyterLab with this checkout's kernel, as root too (containers, cloud VMs)."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

from fmnist_utils.config import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_project_kernel(tmp_path):
    port, token = _free_port(), "fmnist-test"
    url = f"http://127.0.0.1:{port}/lab?token="  # the token itself is masked when given
    flags = f"--port={port} --no-browser --IdentityProvider.token={token}"
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        lab = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_FLAGS={flags}"], cwd=ROOT, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, specs = time.monotonic() + 90, None
        while (specs is None or url not in log.read_text()) and time.monotonic() < deadline and lab.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=5) as r:
                    specs = json.load(r)
            except OSError:
                time.sleep(1)
        assert specs is not None, f"JupyterLab did not answer (exit status {lab.poll()}):\n{log.read_text()}"
        assert "fmnist" in specs["kernelspecs"]
        assert url in log.read_text()  # its URL, for a machine without a browser
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
