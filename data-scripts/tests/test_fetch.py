"""Tests of data-scripts/fetch.py against a local HTTP server and local mirrors (no internet needed).

Each test builds a tiny dataset registry whose source URLs point at a server on 127.0.0.1, so the
real download, checksum, extraction and install code runs end to end.
"""
import hashlib
import http.server
import io
import json
import os
import sys
import threading
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import fetch  # noqa: E402

JPEG = bytes([0xFF, 0xD8, 0xFF, 0xE0]) + b"\0" * 60 + bytes([0xFF, 0xD9])


# ------------------------------------------------------------------------------------------ fixtures

class Server:
    """Serves a dict path -> (status, bytes); counts requests."""

    def __init__(self):
        self.files = {}
        self.hits = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.hits.append(self.path)
                status, body, declared = outer.files.get(self.path, (404, b"not found", None))
                self.send_response(status)
                self.send_header("Content-Length", str(declared if declared is not None else len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def put(self, path, body, status=200, declared=None):
        self.files[path] = (status, body, declared)
        return self.url + path


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch):
    """The tests name their mirror and data folder explicitly; ./leukolab test --mirror exports these."""
    for name in ("LEUKOLAB_MIRROR", "LEUKOLAB_DATA"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()


def zip_bytes(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def cells_zip() -> bytes:
    """Laid out like the Kaggle blood-cells archive: doubled top folder, plus the label list."""
    m = {}
    for split in ("TRAIN", "TEST"):
        for label in ("EOS", "LYM"):
            for i in range(2):
                m[f"dataset2-master/dataset2-master/images/{split}/{label}/_{i}.jpeg"] = JPEG
    m["dataset-master/dataset-master/labels.csv"] = "Image,Category\n0,EOS\n"
    m["dataset-master/dataset-master/Annotations/BloodImage_00000.xml"] = "<x/>"
    return zip_bytes(m)


def registry(tmp_path, url, checksum=None, kind="http", expected=None):
    reg = {
        "datasets": {
            "cells": {
                "title": "test cells", "used_by": ["002"], "homepage": "https://example.org/cells",
                "citation": "test", "license": "test",
                "source": {"kind": kind, "url": url, "file": "cells.zip", "checksum": checksum},
                "install": [
                    {"dir_with": ["TRAIN", "TEST"], "under": "dataset2-master", "to": "dataset2-master/images"},
                    {"file": "labels.csv", "under": "dataset-master", "to": "dataset-master/labels.csv"},
                ],
                "image_root": "dataset2-master/images", "layout": "split/class", "splits": ["TRAIN", "TEST"],
                "classes": ["EOS", "LYM"], "expected_images": expected or {"TRAIN": 4, "TEST": 4},
                "sample": "cells-sample",
            },
            "cells-sample": {
                "title": "sample", "used_by": [], "homepage": "h", "citation": "c", "license": "l",
                "source": {"kind": "mirror-only", "note": "only in mirrors"}, "install": [],
                "image_root": "dataset2-master/images", "layout": "split/class", "splits": ["TRAIN", "TEST"],
                "classes": ["EOS", "LYM"], "expected_images": {"TRAIN": 1, "TEST": 1}, "sample_of": "cells",
            },
        },
        "default_set": ["cells"],
    }
    p = tmp_path / "registry.json"
    p.write_text(json.dumps(reg))
    return p


def run(reg, data, *args):
    return fetch.main(["--registry", str(reg), "--data-dir", str(data), *args])


def leftovers(data: Path):
    return sorted(p.name for p in data.iterdir() if p.name.startswith((".tmp-", ".unzip-", ".old-")))


# ------------------------------------------------------------------------------------------ tests

def test_download_extracts_normalised_layout_and_records_checksum(tmp_path, server):
    body = cells_zip()
    reg = registry(tmp_path, server.put("/cells.zip", body))
    data = tmp_path / "data"
    assert run(reg, data, "cells") == 0
    root = data / "cells"
    assert sorted(p.name for p in (root / "dataset2-master/images").iterdir()) == ["TEST", "TRAIN"]
    assert (root / "dataset-master/labels.csv").read_text().startswith("Image,Category")
    assert not (root / "dataset-master/Annotations").exists(), "only what the install rules name is kept"
    marker = json.loads((root / fetch.MARKER).read_text())
    assert marker["image_counts"] == {"TRAIN": 4, "TEST": 4}
    assert marker["archive_sha256"] == hashlib.sha256(body).hexdigest()
    book = json.loads((data / "checksums.json").read_text())
    assert book["cells.zip"] == hashlib.sha256(body).hexdigest()
    assert leftovers(data) == []


def test_rerun_is_a_no_op(tmp_path, server, capsys):
    reg = registry(tmp_path, server.put("/cells.zip", cells_zip()))
    data = tmp_path / "data"
    assert run(reg, data, "cells") == 0
    marker = data / "cells" / fetch.MARKER
    before = marker.stat().st_mtime_ns
    hits = len(server.hits)
    assert run(reg, data, "cells") == 0
    assert marker.stat().st_mtime_ns == before
    assert len(server.hits) == hits, "no second download"
    assert "already installed" in capsys.readouterr().out


def test_changed_download_is_refused_against_the_recorded_checksum(tmp_path, server, capsys):
    url = server.put("/cells.zip", cells_zip())
    reg = registry(tmp_path, url)
    data = tmp_path / "data"
    assert run(reg, data, "cells") == 0
    other = cells_zip() + b""  # same zip bytes would match; build a different archive
    other = zip_bytes({"dataset2-master/images/TRAIN/EOS/x.jpeg": JPEG,
                       "dataset2-master/images/TEST/EOS/x.jpeg": JPEG, "dataset-master/labels.csv": "x"})
    server.put("/cells.zip", other)
    (data / ".downloads" / "cells.zip").unlink()
    assert run(reg, data, "--force", "cells") == 1
    err = capsys.readouterr().err
    assert "differs from the one recorded at its first download" in err
    assert json.loads((data / "cells" / fetch.MARKER).read_text())["image_counts"]["TRAIN"] == 4, \
        "the installed copy is untouched"
    assert leftovers(data) == []


def test_published_checksum_mismatch_installs_nothing(tmp_path, server, capsys):
    reg = registry(tmp_path, server.put("/cells.zip", cells_zip()), checksum={"md5": "0" * 32})
    data = tmp_path / "data"
    assert run(reg, data, "cells") == 1
    assert "the source publishes" in capsys.readouterr().err
    assert not (data / "cells").exists()
    assert leftovers(data) == []


def test_published_checksum_match_installs(tmp_path, server):
    body = cells_zip()
    reg = registry(tmp_path, server.put("/cells.zip", body), checksum={"md5": hashlib.md5(body).hexdigest()})
    assert run(reg, tmp_path / "data", "cells") == 0


def test_short_download_is_not_kept(tmp_path, server, capsys):
    body = cells_zip()
    reg = registry(tmp_path, server.put("/cells.zip", body[:100], declared=len(body)))
    data = tmp_path / "data"
    assert run(reg, data, "cells") == 1
    assert not (data / "cells").exists()
    assert not (data / ".downloads" / "cells.zip").exists()


def test_interrupted_install_leaves_no_dataset_that_looks_complete(tmp_path, server, monkeypatch):
    reg = registry(tmp_path, server.put("/cells.zip", cells_zip()))
    data = tmp_path / "data"

    def die(*a, **k):
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C while the files were being moved

    real = fetch.apply_install_rules
    monkeypatch.setattr(fetch, "apply_install_rules", die)
    with pytest.raises(KeyboardInterrupt):
        run(reg, data, "cells")
    assert not (data / "cells").exists()
    assert leftovers(data) == []
    monkeypatch.setattr(fetch, "apply_install_rules", real)
    assert run(reg, data, "cells") == 0  # and the next run completes it
    assert (data / "cells" / fetch.MARKER).is_file()


def test_stale_temporary_folders_from_a_killed_run_are_cleaned(tmp_path, server):
    reg = registry(tmp_path, server.put("/cells.zip", cells_zip()))
    data = tmp_path / "data"
    (data / ".tmp-cells-dead").mkdir(parents=True)
    (data / ".tmp-cells-dead" / "half.jpeg").write_bytes(JPEG)
    assert run(reg, data, "cells") == 0
    assert leftovers(data) == []


def test_zip_with_escaping_paths_is_refused(tmp_path, server, capsys):
    evil = zip_bytes({"../../evil.txt": "x", "dataset2-master/images/TRAIN/A/a.jpeg": JPEG})
    reg = registry(tmp_path, server.put("/cells.zip", evil))
    assert run(reg, tmp_path / "data", "cells") == 1
    assert "unsafe path" in capsys.readouterr().err
    assert not (tmp_path / "evil.txt").exists()


def test_html_page_instead_of_archive_is_a_clear_error(tmp_path, server, capsys):
    reg = registry(tmp_path, server.put("/cells.zip", b"<html>please log in</html>"))
    assert run(reg, tmp_path / "data", "cells") == 1
    assert "not a zip archive" in capsys.readouterr().err


def test_kaggle_refusal_explains_the_token(tmp_path, server, capsys, monkeypatch):
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "nokaggle"))
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    reg = registry(tmp_path, server.put("/cells.zip", b"denied", status=401), kind="kaggle")
    assert run(reg, tmp_path / "data", "cells") == 1
    err = capsys.readouterr().err
    assert "kaggle.json" in err and "--archive" in err


def test_no_network_suggests_mirror_and_archive(tmp_path, capsys):
    reg = registry(tmp_path, "http://127.0.0.1:9/cells.zip")  # discard port: connection refused
    assert run(reg, tmp_path / "data", "cells") == 1
    err = capsys.readouterr().err
    assert "--mirror" in err and "--archive" in err


def test_archive_downloaded_by_hand(tmp_path, capsys):
    reg = registry(tmp_path, "http://127.0.0.1:9/never-used.zip")
    archive = tmp_path / "manual.zip"
    archive.write_bytes(cells_zip())
    assert run(reg, tmp_path / "data", "--archive", str(archive), "cells") == 0
    assert "archive" in json.loads((tmp_path / "data/cells" / fetch.MARKER).read_text())["source_desc"]


def make_mirror(tmp_path, with_full=True, with_sample=True):
    m = tmp_path / "mirror"
    if with_full:
        for split in ("TRAIN", "TEST"):
            for i in range(2):
                f = m / "cells/dataset2-master/images" / split / "EOS" / f"{i}.jpeg"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(JPEG)
        os.chmod(m / "cells", 0o555)  # mirrors are often read-only
    if with_sample:
        for split in ("TRAIN", "TEST"):
            f = m / "cells-sample/dataset2-master/images" / split / "EOS" / "s.jpeg"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(JPEG)
    return m


def test_mirror_tree_is_copied_and_digest_recorded_then_verified(tmp_path, capsys):
    reg = registry(tmp_path, "http://127.0.0.1:9/unused.zip")
    data = tmp_path / "data"
    mirror = make_mirror(tmp_path)
    assert run(reg, data, "--mirror", str(mirror), "cells") == 0
    marker = json.loads((data / "cells" / fetch.MARKER).read_text())
    assert marker["tree_sha256"] and marker["image_counts"] == {"TRAIN": 2, "TEST": 2}
    assert "official count" in " ".join(marker["notes"]), "count differences are noted"
    assert os.access(data / "cells", os.W_OK), "the copy is writable even if the mirror is not"
    assert run(reg, data, "--verify", "cells") == 0
    (data / "cells/dataset2-master/images/TRAIN/EOS/0.jpeg").write_bytes(b"changed")
    assert run(reg, data, "--verify", "cells") == 1
    assert "changed since install" in capsys.readouterr().err


def test_mirror_archive_is_used_like_a_download(tmp_path):
    reg = registry(tmp_path, "http://127.0.0.1:9/unused.zip")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "cells.zip").write_bytes(cells_zip())
    assert run(reg, tmp_path / "data", "--mirror", str(mirror), "cells") == 0
    assert (tmp_path / "data/cells/dataset-master/labels.csv").is_file()


def test_mirror_with_only_a_sample_installs_the_sample_under_its_own_name(tmp_path, capsys):
    reg = registry(tmp_path, "http://127.0.0.1:9/unused.zip")
    data = tmp_path / "data"
    mirror = make_mirror(tmp_path, with_full=False)
    assert run(reg, data, "--mirror", str(mirror), "cells") == 0
    assert (data / "cells-sample" / fetch.MARKER).is_file()
    assert not (data / "cells").exists()
    assert "only the sample" in capsys.readouterr().err
    assert run(reg, data, "--mirror", str(mirror), "cells") == 0
    assert "nothing to do" in capsys.readouterr().out


def test_default_set_skips_what_the_mirror_lacks_but_an_explicit_request_fails(tmp_path, capsys):
    reg = registry(tmp_path, "http://127.0.0.1:9/unused.zip")
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    assert run(reg, tmp_path / "data", "--mirror", str(empty)) == 0
    assert "skipped" in capsys.readouterr().err
    assert run(reg, tmp_path / "data", "--mirror", str(empty), "cells") == 1
    assert "has neither cells/ nor cells.zip" in capsys.readouterr().err


def test_folder_not_made_by_the_script_is_not_overwritten(tmp_path, capsys):
    reg = registry(tmp_path, "http://127.0.0.1:9/unused.zip")
    data = tmp_path / "data"
    (data / "cells").mkdir(parents=True)
    (data / "cells" / "mine.txt").write_text("precious")
    assert run(reg, data, "--mirror", str(make_mirror(tmp_path)), "cells") == 1
    assert "holds no" in capsys.readouterr().err
    assert (data / "cells" / "mine.txt").read_text() == "precious"


def test_force_replaces_only_after_success(tmp_path, server):
    reg = registry(tmp_path, server.put("/cells.zip", cells_zip()))
    data = tmp_path / "data"
    assert run(reg, data, "cells") == 0
    server.put("/cells.zip", b"broken", status=500)
    (data / ".downloads" / "cells.zip").unlink()
    assert run(reg, data, "--force", "cells") == 1
    assert (data / "cells" / fetch.MARKER).is_file(), "the old copy survives a failed reinstall"


def test_unknown_dataset_and_list(tmp_path, capsys):
    reg = registry(tmp_path, "http://127.0.0.1:9/unused.zip")
    assert run(reg, tmp_path / "data", "nope") == 2
    assert run(reg, tmp_path / "data", "--list") == 0
    assert "cells" in capsys.readouterr().out


def test_real_registry_is_consistent():
    reg = fetch.load_registry()
    ids = set(reg["datasets"])
    assert set(reg["default_set"]) <= ids
    for ds_id, spec in reg["datasets"].items():
        for key in ("title", "homepage", "citation", "source", "layout"):
            assert key in spec, f"{ds_id} lacks {key}"
        if spec.get("sample"):
            assert reg["datasets"][spec["sample"]]["sample_of"] == ds_id
        if spec["source"]["kind"] in ("http", "kaggle"):
            assert spec["source"]["url"].startswith("https://"), ds_id


# ------------------------------------------------------------------ bad downloads and first-download checksums

def test_a_bad_download_is_deleted_and_fetched_again(tmp_path, server, capsys):
    """A corrupt archive in data/.downloads must not make the same failure repeat forever."""
    good = cells_zip()
    url = server.put("/cells.zip", good[: len(good) // 2])  # a truncated archive, served whole (no length error)
    reg = registry(tmp_path, url)
    data = tmp_path / "data"
    assert run(reg, data, "cells") == 1
    err = capsys.readouterr().err
    assert "not a zip archive" in err and "was deleted" in err
    assert not (data / ".downloads" / "cells.zip").exists(), "the bad download is not kept"
    assert "cells.zip" not in json.loads((data / "checksums.json").read_text() if (data / "checksums.json").exists() else "{}"), \
        "a bad archive's checksum is never recorded"
    server.put("/cells.zip", good)
    assert run(reg, data, "cells") == 0, "the next run downloads again and installs"
    assert server.hits.count("/cells.zip") == 2
    assert json.loads((data / "checksums.json").read_text())["cells.zip"] == hashlib.sha256(good).hexdigest()


def test_a_download_with_the_wrong_layout_is_deleted_and_not_recorded(tmp_path, server, capsys):
    wrong = zip_bytes({"something/else/x.jpeg": JPEG})
    reg = registry(tmp_path, server.put("/cells.zip", wrong))
    data = tmp_path / "data"
    assert run(reg, data, "cells") == 1
    err = capsys.readouterr().err
    assert "layout is not the one expected" in err and "downloads it again" in err
    assert not (data / ".downloads" / "cells.zip").exists()
    assert not (data / "checksums.json").exists() or "cells.zip" not in json.loads((data / "checksums.json").read_text())
    assert leftovers(data) == []


def test_a_half_archive_by_hand_records_nothing_and_the_good_one_then_installs(tmp_path, capsys):
    """fetch --archive half.zip: refused, no checksum recorded, the user's file left alone; then the real one works."""
    reg = registry(tmp_path, "http://127.0.0.1:9/never-used.zip")
    data = tmp_path / "data"
    good = cells_zip()
    half = tmp_path / "half.zip"
    half.write_bytes(good[: len(good) // 2])
    assert run(reg, data, "--archive", str(half), "cells") == 1
    err = capsys.readouterr().err
    assert "not a zip archive" in err and "left as it is" in err
    assert half.exists(), "a file the user gave is never deleted"
    assert not (data / "checksums.json").exists() or "cells.zip" not in json.loads((data / "checksums.json").read_text())
    full = tmp_path / "cells.zip"
    full.write_bytes(good)
    assert run(reg, data, "--archive", str(full), "cells") == 0
    assert json.loads((data / "checksums.json").read_text())["cells.zip"] == hashlib.sha256(good).hexdigest()


def test_an_archive_with_missing_images_is_installed_with_a_note_but_not_trusted(tmp_path, server, capsys):
    partial = zip_bytes({f"dataset2-master/images/{s}/EOS/{i}.jpeg": JPEG for s in ("TRAIN", "TEST") for i in range(3)}
                        | {"dataset-master/labels.csv": "x"})
    reg = registry(tmp_path, server.put("/cells.zip", partial))
    data = tmp_path / "data"
    assert run(reg, data, "cells") == 0
    err = capsys.readouterr().err
    assert "the official count is 4" in err and "NOT recorded" in err
    assert not (data / "checksums.json").exists() or "cells.zip" not in json.loads((data / "checksums.json").read_text())


# ------------------------------------------------------------------ the White Blood Cells (Raabin) archive's real layout

def wbc_zip(folders=("Train", "Test-A", "Test-B")) -> bytes:
    """Laid out like Kaggle's masoudnickparvar/white-blood-cells-dataset archive: Train, Test-A and Test-B at the top,
    class folders in each (Test-B holds fewer classes)."""
    m = {}
    for split in folders:
        classes = ("Lymphocyte", "Neutrophil") if split == "Test-B" else ("Basophil", "Lymphocyte", "Neutrophil")
        for label in classes:
            for i in range(2):
                m[f"{split}/{label}/{split}_{label}_{i}.jpg"] = JPEG
    return zip_bytes(m)


def wbc_registry(tmp_path, url):
    """The real registry's raabin-wbc entry (install rules, splits, layout), with this fixture's image counts."""
    spec = json.loads(json.dumps(fetch.load_registry()["datasets"]["raabin-wbc"]))
    spec["source"] = dict(spec["source"], kind="http", url=url, checksum=None)
    spec["expected_images"] = {"Train": 6, "Test-A": 6, "Test-B": 4}
    p = tmp_path / "registry.json"
    p.write_text(json.dumps({"datasets": {"raabin-wbc": spec}, "default_set": ["raabin-wbc"]}))
    return p


def test_the_wbc_archive_installs_all_three_folders(tmp_path, server):
    reg = wbc_registry(tmp_path, server.put("/wbc.zip", wbc_zip()))
    data = tmp_path / "data"
    assert run(reg, data, "raabin-wbc") == 0
    root = data / "raabin-wbc"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["Test-A", "Test-B", "Train"]
    marker = json.loads((root / fetch.MARKER).read_text())
    assert marker["image_counts"] == {"Train": 6, "Test-A": 6, "Test-B": 4}


def test_a_wbc_archive_without_test_b_is_refused_with_the_folders_named(tmp_path, server, capsys):
    reg = wbc_registry(tmp_path, server.put("/wbc.zip", wbc_zip(("Train", "Test-A"))))
    data = tmp_path / "data"
    assert run(reg, data, "raabin-wbc") != 0
    err = capsys.readouterr().err
    assert "Train, Test-A, Test-B" in err, err
    assert not (data / "raabin-wbc").exists()
