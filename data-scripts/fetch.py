#!/usr/bin/env python3
"""Fetch the datasets used by the leukolab notebooks.

Every dataset comes from its official public source (see datasets.json), or from a local mirror: a
folder laid out like the offline copies (``<mirror>/<dataset-id>/...`` already unpacked, or the
original archive ``<mirror>/<archive file name>``). Installation is atomic: a dataset is unpacked into
a temporary folder beside its destination and renamed into place only when complete, so an interrupted
run never leaves a half dataset that looks whole. Running again is a no-op for what is installed.

Usage:
  data-scripts/fetch [options] [DATASET ...]      # no DATASET: the default set
  data-scripts/fetch --list

Options:
  --mirror DIR     take datasets from DIR instead of the network (env LEUKOLAB_MIRROR)
  --data-dir DIR   where datasets are installed (env LEUKOLAB_DATA, default <repo>/data)
  --archive FILE   install the single named DATASET from an archive you downloaded by hand
  --force          reinstall even if present (the old copy is replaced only after success)
  --verify         re-hash installed datasets and compare with what was recorded at install time

Only the Python standard library is used, so this runs before any environment is set up.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REGISTRY = HERE / "datasets.json"
MARKER = ".leukolab-dataset.json"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
FETCH_CMD = "./leukolab fetch"


class FetchError(Exception):
    """A failure with a message meant for the user (no traceback is shown)."""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- registry and paths

def load_registry(path: Path = REGISTRY) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def data_dir(arg: str | None) -> Path:
    d = arg or os.environ.get("LEUKOLAB_DATA") or str(REPO / "data")
    return Path(d).expanduser().resolve()


def installed(dest: Path) -> dict | None:
    """The install record of a dataset folder, or None if it is not a complete install."""
    marker = dest / MARKER
    if not marker.is_file():
        return None
    try:
        return json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- hashing

def file_digest(path: Path, algo: str = "sha256") -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(root: Path) -> str:
    """SHA-256 over the sorted relative paths and contents of every file under root (marker excluded)."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != MARKER:
            h.update(p.relative_to(root).as_posix().encode("utf-8") + b"\0")
            h.update(file_digest(p).encode("ascii") + b"\n")
    return h.hexdigest()


def write_json_atomic(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class ChecksumBook:
    """Checksums recorded at first download, for sources that publish none (trust on first use)."""

    def __init__(self, path: Path):
        self.path = path
        self.entries = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def check(self, key: str, sha256: str) -> str:
        """Compares with the recorded checksum; a first download is only noted (see record)."""
        known = self.entries.get(key)
        if known is None:
            return "new (first download; no published checksum): recorded once it unpacks with the expected layout"
        if known != sha256:
            raise FetchError(
                f"{key}: SHA-256 {sha256} differs from the one recorded at its first download ({known}) "
                f"in {self.path}. The file changed at the source or was corrupted in transit. "
                f"If the source really published a new version, delete that entry and fetch again.")
        return "matches the checksum recorded at first download"

    def record(self, key: str, sha256: str) -> bool:
        """Records a first download's checksum; called only for an archive that proved good. True if recorded."""
        if key in self.entries:
            return False
        self.entries[key] = sha256
        write_json_atomic(self.path, self.entries)
        return True


def verify_published(path: Path, checksum: dict) -> str:
    for algo, expected in checksum.items():
        got = file_digest(path, algo)
        if got.lower() != expected.lower():
            raise FetchError(
                f"{path.name}: {algo} is {got}, but the source publishes {expected}. The download is "
                f"corrupt or not the official file; it was not installed. Fetch again.")
    return "matches the published " + "/".join(checksum)


# --------------------------------------------------------------------------- download

def kaggle_auth() -> str | None:
    user, key = os.environ.get("KAGGLE_USERNAME"), os.environ.get("KAGGLE_KEY")
    if not (user and key):
        cfg = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle")) / "kaggle.json"
        if cfg.is_file():
            with contextlib.suppress(OSError, ValueError, KeyError):
                d = json.loads(cfg.read_text(encoding="utf-8"))
                user, key = d["username"], d["key"]
    if user and key:
        return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()
    return None


def download(url: str, dest: Path, kind: str, homepage: str) -> None:
    """Stream url to dest atomically (dest.part, then rename) with a progress line on stderr."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    req = urllib.request.Request(url, headers={"User-Agent": "leukolab-fetch/1"})
    if kind == "kaggle":
        auth = kaggle_auth()
        if auth:
            req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp, open(part, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            done, last = 0, 0.0
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                out.write(chunk)
                done += len(chunk)
                now = time.monotonic()
                if now - last > 2 or (total and done == total):
                    last = now
                    pct = f" {100 * done / total:5.1f}%" if total else ""
                    log(f"  {dest.name}: {done / 1e6:8.1f} MB{pct}")
            out.flush()
            os.fsync(out.fileno())
        if total and done != total:
            raise FetchError(f"{url}: connection closed after {done} of {total} bytes; fetch again.")
    except urllib.error.HTTPError as e:
        with contextlib.suppress(OSError):
            part.unlink()
        hint = ""
        if kind == "kaggle" and e.code in (401, 403):
            hint = (" Kaggle wants an API token: create one at kaggle.com (Settings > API), save it as "
                    "~/.kaggle/kaggle.json (or set KAGGLE_USERNAME and KAGGLE_KEY), and accept the dataset's "
                    f"terms on {homepage}. Or download the archive there by hand and run: "
                    f"{FETCH_CMD} --archive FILE <dataset>.")
        raise FetchError(f"{url}: HTTP {e.code} {e.reason}.{hint}") from None
    except (urllib.error.URLError, OSError) as e:
        with contextlib.suppress(OSError):
            part.unlink()
        if isinstance(e, FetchError):
            raise
        raise FetchError(
            f"{url}: {getattr(e, 'reason', e)}. No network? Use an offline copy with --mirror DIR "
            f"(or LEUKOLAB_MIRROR=DIR), or download {homepage} by hand and pass --archive FILE.") from None
    os.replace(part, dest)


# --------------------------------------------------------------------------- unpacking and layout

def safe_extract(archive: Path, into: Path) -> None:
    if not zipfile.is_zipfile(archive):
        raise FetchError(f"{archive}: not a zip archive (a login page or an error saved as a file?). "
                         f"Delete it and fetch again.")
    with zipfile.ZipFile(archive) as z:
        bad = z.testzip()
        if bad is not None:
            raise FetchError(f"{archive}: member {bad} is corrupt (CRC mismatch); delete the archive and fetch again.")
        for info in z.infolist():
            p = PurePosixPath(info.filename)
            if p.is_absolute() or ".." in p.parts:
                raise FetchError(f"{archive}: refusing member with unsafe path {info.filename!r}.")
        z.extractall(into)


def find_dir_with(root: Path, names: list[str], under: str | None) -> Path:
    """The shallowest directory below root that holds every folder in names (case-sensitive)."""
    candidates = []
    for d in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if under and under not in d.relative_to(root).parts and d != root / under:
            continue
        if all((d / n).is_dir() for n in names):
            candidates.append(d)
    if not candidates:
        raise FetchError(f"the archive has no folder holding {', '.join(names)}"
                         f"{' under ' + under if under else ''}; its layout is not the one expected. "
                         f"Is it the right file?")
    return min(candidates, key=lambda d: len(d.parts))


def find_file(root: Path, name: str, under: str | None) -> Path:
    hits = sorted((p for p in root.rglob(name) if p.is_file()
                   and (not under or under in p.relative_to(root).parts)), key=lambda p: len(p.parts))
    if not hits:
        raise FetchError(f"the archive has no file {name}{' under ' + under if under else ''}.")
    return hits[0]


def apply_install_rules(rules: list[dict], extracted: Path, stage: Path) -> None:
    for rule in rules:
        target = (stage / rule["to"]).resolve()
        if "dir_with" in rule:
            src = find_dir_with(extracted, rule["dir_with"], rule.get("under"))
            if rule["to"] == ".":
                for child in src.iterdir():
                    shutil.move(str(child), str(stage / child.name))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(src), str(target))
        else:
            src = find_file(extracted, rule["file"], rule.get("under"))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(target))


def mirror_source_file(mirror: Path, spec: dict) -> Path | None:
    """The source file in a mirror: DIR/<file>; single files (weights) also DIR/weights/ and DIR/../weights/."""
    name = spec["source"].get("file")
    if not name:
        return None
    candidates = [mirror / name]
    if spec.get("layout") == "file":
        candidates += [mirror / "weights" / name, mirror.parent / "weights" / name]
    return next((c for c in candidates if c.is_file()), None)


def count_images(stage: Path, spec: dict) -> dict:
    root = stage / spec.get("image_root", ".")
    if spec.get("layout") in ("npz", "file"):
        return {}
    splits = spec.get("splits") or [""]
    counts = {}
    for s in splits:
        d = root / s if s else root
        counts[s] = sum(1 for p in d.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES) \
            if d.is_dir() else 0
    return counts


def check_counts(ds_id: str, spec: dict, counts: dict) -> list[str]:
    notes = []
    for split, want in (spec.get("expected_images") or {}).items():
        if spec.get("layout") in ("npz", "file"):
            break
        got = counts.get(split, 0)
        if got == 0:
            raise FetchError(f"{ds_id}: no images found for split {split or '(all)'}; the source is incomplete.")
        if got != want:
            known = spec.get("known_bad_files") or []
            notes.append(f"{ds_id} {split or 'all'}: {got} files with an image extension, the official count is "
                         f"{want}" + (f" (known non-images: {', '.join(known)})" if known else ""))
    return notes


def counts_match(spec: dict, counts: dict) -> bool:
    """Every split has its official image count (give or take the registry's known non-image files)."""
    if spec.get("layout") in ("npz", "file"):
        return True
    slack = len(spec.get("known_bad_files") or [])
    return all(abs(counts.get(split, 0) - want) <= slack for split, want in (spec.get("expected_images") or {}).items())


# --------------------------------------------------------------------------- install

def copy_tree(src: Path, dst: Path) -> None:
    """Copy file contents only (not modes: mirrors are often read-only), skipping an install marker."""
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src)
        if p.is_dir():
            (dst / rel).mkdir(parents=True, exist_ok=True)
        elif p.is_file() and p.name != MARKER:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dst / rel)


def install(ds_id: str, spec: dict, dest_root: Path, mirror: Path | None, archive: Path | None,
            force: bool, book: ChecksumBook) -> str:
    dest = dest_root / ds_id
    rec = installed(dest)
    if rec and not force:
        return f"{ds_id}: already installed ({rec.get('source_desc', '?')}); nothing to do"
    if dest.exists() and not rec and any(dest.iterdir()):
        raise FetchError(f"{dest} exists but holds no {MARKER}: it was not installed by this script or an "
                         f"install was interrupted before it completed. Move it away (or delete it) and fetch again.")

    src = spec["source"]
    downloaded = None  # set when the archive is this script's own download (deleted if it proves bad)
    unrecorded = None  # (name, sha256) of a first download, recorded only once it installs
    counts = None
    record = {"id": ds_id, "title": spec["title"], "citation": spec["citation"],
              "installed_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    stage = Path(tempfile.mkdtemp(prefix=f".tmp-{ds_id}-", dir=dest_root))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes it private; the installed folder should not be
    try:
        mirror_tree = mirror / ds_id if mirror else None
        mirror_file = mirror_source_file(mirror, spec) if mirror else None
        if archive is None and mirror_tree is not None and mirror_tree.is_dir():
            log(f"{ds_id}: copying from mirror {mirror_tree}")
            copy_tree(mirror_tree, stage)
            record.update(source_desc=f"mirror {mirror_tree}", tree_sha256=tree_digest(stage))
            check = "tree digest recorded"
        else:
            if archive is not None:
                file, desc = archive, f"archive {archive}"
            elif mirror_file is not None:
                file, desc = mirror_file, f"mirror {mirror_file}"
            elif mirror is not None:
                raise FetchError(f"{ds_id}: the mirror {mirror} has neither {ds_id}/ nor {src.get('file', '?')}"
                                 + (" (also looked in its weights/ and ../weights/)" if spec.get("layout") == "file" else "") + ".")
            elif src["kind"] in ("mirror-only", "built"):
                raise FetchError(f"{ds_id}: {src['note']}")
            else:
                file = dest_root / ".downloads" / src["file"]
                desc = f"download {src['url']}"
                downloaded = file  # ours to delete when it proves bad, so the next run downloads it again
                if not file.is_file():
                    log(f"{ds_id}: downloading {src['url']}")
                    download(src["url"], file, src["kind"], spec["homepage"])
            try:
                if src.get("checksum"):
                    check = verify_published(file, src["checksum"])
                    sha = file_digest(file)
                else:
                    sha = file_digest(file)
                    check = book.check(src.get("file", file.name), sha)
                    unrecorded = (src.get("file", file.name), sha)
                log(f"{ds_id}: {file.name} {check}")
                record.update(source_desc=desc, archive_sha256=sha)
                if zipfile.is_zipfile(file):
                    extracted = Path(tempfile.mkdtemp(prefix=f".unzip-{ds_id}-", dir=dest_root))
                    try:
                        safe_extract(file, extracted)
                        apply_install_rules(spec["install"], extracted, stage)
                    finally:
                        shutil.rmtree(extracted, ignore_errors=True)
                elif spec.get("layout") in ("npz", "file"):
                    shutil.copyfile(file, stage / spec["install"][0]["to"])
                else:
                    raise FetchError(f"{file}: not a zip archive (a login page or an error saved as a file?).")
                counts = count_images(stage, spec)
                notes = check_counts(ds_id, spec, counts)
            except FetchError as e:
                if downloaded is not None:
                    with contextlib.suppress(OSError):
                        downloaded.unlink()
                    raise FetchError(f"{e} The downloaded file {downloaded} was deleted: the next "
                                     f"'{FETCH_CMD} {ds_id}' downloads it again.") from None
                raise FetchError(f"{e} Nothing was installed; {file} was left as it is (not downloaded by "
                                 f"this script); replace it with a good copy and run again.") from None
        if counts is None:  # copied from a mirror folder
            counts = count_images(stage, spec)
            notes = check_counts(ds_id, spec, counts)
        record.update(image_counts=counts, notes=notes, checksum_check=check)
        write_json_atomic(stage / MARKER, record)
        if dest.exists():
            old = dest.with_name(f".old-{ds_id}-{os.getpid()}")
            os.replace(dest, old)
            os.replace(stage, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, dest)
        if unrecorded is not None:
            if not counts_match(spec, counts):
                log(f"{ds_id}: checksum of {unrecorded[0]} NOT recorded in {book.path}: its image counts differ from "
                    f"the official ones, so it is not trusted as the reference for later downloads")
            elif book.record(*unrecorded):
                log(f"{ds_id}: checksum of {unrecorded[0]} recorded in {book.path} (first download; it unpacked with "
                    f"the expected layout and image counts)")
        for n in notes:
            log(f"  note: {n}")
        total = sum(counts.values())
        return f"{ds_id}: installed at {dest} ({total} images)" if counts else f"{ds_id}: installed at {dest}"
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def verify(ds_id: str, dest_root: Path) -> str:
    dest = dest_root / ds_id
    rec = installed(dest)
    if not rec:
        raise FetchError(f"{ds_id}: not installed; run {FETCH_CMD} {ds_id}")
    if "tree_sha256" in rec:
        got = tree_digest(dest)
        if got != rec["tree_sha256"]:
            raise FetchError(f"{ds_id}: files under {dest} changed since install (tree digest differs); "
                             f"reinstall with {FETCH_CMD} --force {ds_id}")
        return f"{ds_id}: files match the install record"
    counts = count_images(dest, load_registry()["datasets"].get(ds_id, {}))
    if counts and counts != rec.get("image_counts"):
        raise FetchError(f"{ds_id}: image counts {counts} differ from install time {rec.get('image_counts')}")
    return f"{ds_id}: image counts match the install record"


@contextlib.contextmanager
def locked(dest_root: Path):
    dest_root.mkdir(parents=True, exist_ok=True)
    with open(dest_root / ".fetch.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another fetch is running on {dest_root}; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        # leftovers of a run that was killed: never complete, safe to remove
        for p in dest_root.glob(".tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
        for p in dest_root.glob(".unzip-*"):
            shutil.rmtree(p, ignore_errors=True)
        yield


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="./leukolab fetch", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=textwrap.fill(
                                     "Kaggle datasets (blood-cells, raabin-wbc) need an API token: create one on kaggle.com "
                                     "(Settings > API) and save it as ~/.kaggle/kaggle.json, or set KAGGLE_USERNAME and "
                                     "KAGGLE_KEY; accept each dataset's terms on its page.", 100) + "\n\n" + textwrap.fill(
                                     "A download that proves bad (checksum, not an archive, wrong layout) is deleted, so the "
                                     "next run fetches it again. A first download's checksum (for sources that publish none) "
                                     "is recorded in <data>/checksums.json only after it installed with the official image "
                                     "counts.", 100))
    ap.add_argument("datasets", nargs="*", metavar="DATASET",
                    help="dataset ids from data-scripts/datasets.json (see --list); none: the default set")
    ap.add_argument("--mirror", default=os.environ.get("LEUKOLAB_MIRROR") or None, metavar="DIR",
                    help="take datasets from a local folder instead of the network: DIR/<dataset-id>/ unpacked, or "
                         "the original archive DIR/<file name> (env LEUKOLAB_MIRROR)")
    ap.add_argument("--data-dir", metavar="DIR",
                    help="where datasets are installed (env LEUKOLAB_DATA; default <repo>/data)")
    ap.add_argument("--archive", metavar="FILE",
                    help="install the one DATASET named from an archive you downloaded by hand (e.g. from Kaggle's "
                         "page); the file is checked, never changed or deleted")
    ap.add_argument("--force", action="store_true",
                    help="reinstall even if installed; the old copy is replaced only after the new one is complete")
    ap.add_argument("--verify", action="store_true",
                    help="re-check installed datasets against what was recorded at install time (nothing is fetched)")
    ap.add_argument("--list", action="store_true", help="list the datasets, installed or not, with their sources")
    ap.add_argument("--registry", default=str(REGISTRY), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    reg = load_registry(Path(a.registry))
    specs = reg["datasets"]
    dest_root = data_dir(a.data_dir)

    if a.list:
        for ds_id, spec in specs.items():
            rec = installed(dest_root / ds_id)
            state = "installed" if rec else "missing"
            print(f"{ds_id:20s} {state:9s} {spec['title']}\n{'':31s}{spec['homepage']}")
        return 0

    mirror = Path(a.mirror).expanduser().resolve() if a.mirror else None
    if mirror is not None and not mirror.is_dir():
        log(f"error: mirror folder {mirror} does not exist")
        return 2
    explicit = bool(a.datasets)
    wanted = a.datasets or list(reg["default_set"])
    unknown = [d for d in wanted if d not in specs]
    if unknown:
        log(f"error: unknown dataset(s) {', '.join(unknown)}; known: {', '.join(specs)}")
        return 2
    if a.archive and len(wanted) != 1:
        log("error: --archive needs exactly one dataset name")
        return 2
    archive = Path(a.archive).expanduser().resolve() if a.archive else None
    if archive is not None and not archive.is_file():
        log(f"error: archive {archive} not found")
        return 2

    failures, skipped = [], []
    book = ChecksumBook(dest_root / "checksums.json")
    with locked(dest_root):
        for ds_id in wanted:
            spec = specs[ds_id]
            try:
                if a.verify:
                    print(verify(ds_id, dest_root))
                    continue
                # Offline with a mirror that only carries a sample or a stand-in: install that, under its own
                # name, and say so. Code that wants the full set then sees that only the substitute exists.
                sub = spec.get("sample") or spec.get("standin")
                what = "sample" if spec.get("sample") else "stand-in"
                if (mirror is not None and archive is None and sub and not (mirror / ds_id).is_dir()
                        and mirror_source_file(mirror, spec) is None and (mirror / sub).is_dir()):
                    if installed(dest_root / sub) and not a.force:
                        print(f"{ds_id}: only its {what} {sub} is in the mirror, and that is installed; "
                              f"nothing to do")
                        continue
                    log(f"{ds_id}: the mirror has only the {what} {sub}; installing that. "
                        f"The real dataset needs the network: {FETCH_CMD} {ds_id}")
                    print(install(sub, specs[sub], dest_root, mirror, None, a.force, book))
                    continue
                print(install(ds_id, spec, dest_root, mirror, archive, a.force, book))
            except FetchError as e:
                if not explicit and mirror is not None:
                    skipped.append(str(e))
                else:
                    failures.append(str(e))
                    log(f"error: {e}")
    for s in skipped:
        log(f"skipped (not in the mirror; the notebooks that need it will say so): {s}")
    if failures:
        log(f"{len(failures)} dataset(s) failed; nothing half-installed was left behind.")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; nothing half-installed was left behind")
        sys.exit(130)
