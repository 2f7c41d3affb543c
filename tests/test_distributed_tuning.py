"""keras-tuner's distributed mode, run exactly as the README documents it: one chief (the oracle)
and two workers on 127.0.0.1 over the quick MLP space, sharing one tuner folder."""

import json
import os
import re
import socket
import subprocess

from fmnist_utils.compute.spec import CACHE_VERSION
from fmnist_utils.config import ROOT
from tests.conftest import needs_fashion_mnist


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_fashion_mnist
def test_chief_and_two_workers_share_one_oracle(tmp_path):
    port = str(_free_port())

    def start(tuner_id):
        env = {**os.environ, "KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": "127.0.0.1",
               "KERASTUNER_ORACLE_PORT": port, "FMNIST_BUILD_DIR": str(tmp_path / "build")}
        return subprocess.Popen(["make", "-s", "tune-worker", "SPACE=mlp", "PROFILE=quick", f"TUNER_DIR={tmp_path}"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    chief = start("chief")
    workers = {tid: start(tid) for tid in ("tuner1", "tuner2")}
    ran = {}
    for tid, proc in workers.items():
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out
        ran[tid] = set(re.findall(rf"\[{tid}\]: trial (\w+) done", out))
    out, _ = chief.communicate(timeout=120)
    assert chief.returncode == 0, out

    oracle_trials = {}
    for path in (tmp_path / f"mlp-v{CACHE_VERSION}").glob("trial_*/trial.json"):
        trial = json.loads(path.read_text())
        oracle_trials[trial["trial_id"]] = trial["status"]
    assert all(ran.values()), f"each worker should have run trials: {ran}"
    assert ran["tuner1"].isdisjoint(ran["tuner2"])
    assert ran["tuner1"] | ran["tuner2"] == set(oracle_trials)
    assert set(oracle_trials.values()) == {"COMPLETED"}
