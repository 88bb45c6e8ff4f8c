"""The known weights files (the LPIPS backbones, the checkpoints of the built-in models and the files of
the metrics computed by a scorer, :mod:`vsrbench.metrics.extension`) and
their explicit download: what ``vsrbench weights list`` and ``vsrbench weights download NAME`` do.

:func:`_download_known` fetches one file from the URL its authors publish into the vsrbench weights
folder (``$VSRBENCH_HOME``, default ``~/.cache/vsrbench``: the first place every look-up searches),
verifies it (sha256, or for torchvision's files the sha256 prefix in the file name), resumes an
interrupted download and renames the file into place only when it is verified. Nothing else in
vsrbench ever downloads anything.
"""
from __future__ import annotations

import os
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from vsrbench.core.errors import UnknownNameError, WeightsError, os_error_message
from vsrbench.core.text import text_table
from vsrbench.core.weights import (
    check_published, download, find_weights, published_prefix, vsrbench_home,
)

__all__ = ["Known", "known_weights", "get_known", "WeightsRequest", "weights"]


@dataclass(frozen=True)
class Known:
    """One downloadable weights file."""

    name: str  # what the user types
    filename: str  # the published file name (a torchvision name carries its sha256 prefix)
    url: str | None  # the published direct URL (None: none known)
    source: str  # where its authors publish it, in words
    local_name: str  # saved as vsrbench_home() / local_name, and looked up under that name
    sha256: str | None = None
    members: tuple[str, ...] = ()  # for a .zip: the files taken out of it (saved next to local_name)
    what: str = "the published file"
    package: tuple = ()  # shipped inside a Python package: (pip name, path from site-packages); never downloaded

    @property
    def check(self) -> str:
        if self.sha256:
            return f"sha256 {self.sha256[:12]}"
        prefix = published_prefix(self.filename)
        return f"sha256 prefix {prefix}" if prefix else "sha256 not published"


def known_weights() -> dict[str, Known]:
    """Every known weights file by name: ``lpips-alex`` ... and one per built-in model checkpoint."""
    from vsrbench.baselines import MODELS
    from vsrbench.metrics.extension import metric_weights
    from vsrbench.metrics.lpips import BACKBONE_FILES, BACKBONE_SOURCE

    out: dict[str, Known] = {}
    for net, fname in BACKBONE_FILES.items():
        url = BACKBONE_SOURCE.format(fname)
        out[f"lpips-{net}"] = Known(f"lpips-{net}", fname, url, f"{url} (torchvision's ImageNet weights)", fname,
                                    what="torchvision's published file")
    for model in sorted(MODELS):
        ckpts = MODELS[model].checkpoints
        for ckpt in ckpts:
            name = model if len(ckpts) == 1 else f"{model}/{ckpt.filename}"
            zipped = bool(ckpt.url) and ckpt.url.lower().endswith(".zip")
            out[name] = Known(name, ckpt.filename, ckpt.url, ckpt.source, ckpt.local_name or ckpt.filename,
                              sha256=ckpt.sha256, members=(ckpt.filename, *ckpt.companions) if zipped else ())
    for w in metric_weights().values():
        out[w.name] = Known(w.name, w.filename, w.url, w.source, w.filename, sha256=w.sha256, what=w.what,
                            package=w.package)
    return out


def get_known(name: str) -> Known:
    known = known_weights()
    if name not in known:
        raise UnknownNameError("weights", name, known)
    return known[name]


def _present(k: Known) -> Path | None:
    from vsrbench.metrics.extension import package_file

    try:
        return package_file(k) if k.package else find_weights(k.local_name)
    except WeightsError:
        return None


def _render_list(known: dict[str, Known]) -> str:
    lines = [f"weights folder (downloads go here): {vsrbench_home()}"]
    rows = []
    for k in known.values():
        p = _present(k)
        rows.append((k.name, k.filename, k.check, f"present: {p}" if p else "missing"))
    lines += text_table(rows, header=("NAME", "FILE", "CHECK", "STATUS"))
    no_url = [k.name for k in known.values() if not k.url and not k.package]
    if no_url:
        lines.append(f"no direct download URL (see `vsrbench models` for where they are published): {', '.join(no_url)}")
    return "\n".join(lines) + "\n"


def _verified_text(record: dict) -> str:
    """What the check of a file found, in words (``check_published``'s ``verified``)."""
    return {True: "sha256 ok", False: "unverified (accepted by VSRBENCH_UNVERIFIED_WEIGHTS)",
            None: "sha256 not published"}[record["verified"]]


def _in_package(k: Known, stream) -> Path:
    """A file shipped inside a Python package (``k.package``) is installed by pip, never downloaded: its path
    once checked, else the one-line error naming ``pip install``."""
    from vsrbench.metrics.extension import weights_record

    record = weights_record(k.name)
    stream.write(f"{k.name}: installed with the {k.package[0]} package ({record['path']}), {_verified_text(record)}; "
                 "nothing to download\n")
    return Path(record["path"])


def _download_known(k: Known, *, url: str | None = None, force: bool = False, stream=None) -> Path:
    """Download ``k`` into :func:`vsrbench_home` (unless already present and verified) and return its path."""
    stream = sys.stderr if stream is None else stream
    url = url or k.url
    dest = vsrbench_home() / k.local_name
    if k.package:
        return _in_package(k, stream)
    present = _present(k)
    if present is not None and not force:
        record = check_published(present, k.filename, sha256=k.sha256, what=k.what,
                                 get="pass --force to download it again into " + str(dest))
        stream.write(f"{k.name}: already present, {_verified_text(record)}; nothing downloaded (--force downloads "
                     "it again)\n")
        return present
    if not url:
        raise WeightsError(f"no direct download URL is published for {k.name!r} ({k.filename}); get it from "
                           f"{k.source}; place it as {str(dest)!r}")
    if not k.members:
        record = download(url, dest, published_name=k.filename, sha256=k.sha256, what=k.what, stream=stream)
        if record["verified"] is None:
            stream.write(f"{k.name}: its authors publish no sha256; this file's is {record['sha256']}\n")
        return dest
    archive = dest.parent / Path(url.split("?")[0]).name
    download(url, archive, stream=stream)  # a sha256 in the data is that of the file, not the archive
    _extract(archive, k.members, dest.parent)
    archive.unlink()
    return dest


def _extract(archive: Path, members: tuple[str, ...], folder: Path) -> None:
    """Take ``members`` (matched by base name) out of the zip ``archive`` into ``folder``, each
    written to ``.part`` and renamed."""
    try:
        with zipfile.ZipFile(archive) as z:
            by_base = {Path(i.filename).name: i for i in z.infolist() if not i.is_dir()}
            absent = [m for m in members if m not in by_base]
            if absent:
                raise WeightsError(f"{str(archive)!r} holds no {absent[0]!r} (it has: "
                                   f"{', '.join(sorted(by_base)) or 'nothing'}); it is not the published archive")
            for m in members:
                part = folder / (m + ".part")
                with z.open(by_base[m]) as src, open(part, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                os.replace(part, folder / m)
    except zipfile.BadZipFile as e:
        archive.unlink()
        raise WeightsError(f"the downloaded {str(archive)!r} is not a zip archive ({e}); deleted it") from None
    except OSError as e:
        raise WeightsError(os_error_message(e, "extract", archive)) from None


@dataclass(frozen=True)
class WeightsRequest:
    """``action`` ``list`` (every known file and whether it is present) or ``download`` (the file
    called ``name``, from ``url`` when given instead of the published one; ``force``: again even
    when present)."""

    action: str = "list"
    name: str | None = None
    url: str | None = None
    force: bool = False


def weights(request: WeightsRequest) -> str:
    """The text of ``request``: the list, or the path the downloaded (or already present) file has."""
    if request.action == "download":
        return f"{_download_known(get_known(request.name), url=request.url, force=request.force)}\n"
    return _render_list(known_weights())
