"""JupyterLab, as a student opens it, offers the leukolab kernel, and a cell run there shows a plot inline.

Starts `jupyter lab` (the server JupyterLab's page talks to) on a free local port, asks it for its
kernels, starts the leukolab kernel through its REST API and runs cells over the same websocket
protocol the browser uses.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(not (ROOT / ".venv/share/jupyter/kernels/leukolab/kernel.json").exists(),
                                reason="the leukolab kernel is not installed (run ./leukolab setup)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port, token = free_port(), uuid.uuid4().hex
    log = tmp_path_factory.mktemp("lab") / "lab.log"
    env = dict(os.environ, JUPYTER_TOKEN=token)
    with open(log, "w") as out:
        proc = subprocess.Popen([str(VENV_BIN / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
                                 f"--ServerApp.root_dir={ROOT / 'notebooks'}", f"--IdentityProvider.token={token}"]
                                + (["--allow-root"] if os.geteuid() == 0 else []),
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        if proc.poll() is not None:
            pytest.fail("jupyter lab exited:\n" + log.read_text()[-3000:])
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("jupyter lab did not start:\n" + log.read_text()[-3000:])
    yield base, token
    proc.terminate()
    proc.wait(timeout=30)


def api(lab, path, data=None):
    base, token = lab
    req = urllib.request.Request(f"{base}{path}?token={token}", method="POST" if data is not None else "GET",
                                 data=json.dumps(data).encode() if data is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def test_lab_page_and_kernels(lab):
    base, token = lab
    with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=30) as r:
        assert r.status == 200 and b"JupyterLab" in r.read()
    specs = api(lab, "/api/kernelspecs")["kernelspecs"]
    assert specs["leukolab"]["spec"]["display_name"] == "Java (leukolab)"
    assert "java" not in specs, "JJava's own kernel (no library on its class path) is hidden"


def test_cell_shows_plot_inline(lab):
    from tornado import ioloop, websocket

    kernel = api(lab, "/api/kernels", {"name": "leukolab"})
    base, token = lab
    url = base.replace("http", "ws") + f"/api/kernels/{kernel['id']}/channels?token={token}"

    async def run_cells(cells):
        conn = await websocket.websocket_connect(url)
        results = []
        for code in cells:
            msg_id = uuid.uuid4().hex
            conn.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "t", "session": "s",
                           "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            outputs, deadline = [], time.time() + 240
            while time.time() < deadline:
                m = json.loads(await conn.read_message())
                if m.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if m["msg_type"] in ("display_data", "execute_result", "error", "stream"):
                    outputs.append(m)
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    break
            results.append(outputs)
        conn.close()
        return results

    res = ioloop.IOLoop.current().run_sync(lambda: run_cells([
        'var t = Table.create("counts", StringColumn.create("label", List.of("a", "b")),'
        ' IntColumn.create("TRAIN", new int[] {3, 5}));',
        'Charts.classCounts(t)',
        't',
    ]), timeout=600)
    assert not any(m["msg_type"] == "error" for out in res for m in out), res
    figure = [m for m in res[1] if m["msg_type"] == "execute_result"]
    assert figure and "image/png" in figure[0]["content"]["data"], res[1]
    table = [m for m in res[2] if m["msg_type"] == "execute_result"]
    assert "<table>" in table[0]["content"]["data"]["text/html"]
