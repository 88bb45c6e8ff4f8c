"""Local look-up, verification and explicit download of pretrained weights.

Nothing is downloaded implicitly: :func:`download` (``vsrbench weights download NAME``) is the
one, explicit way to fetch a known file; it saves it in :func:`vsrbench_home`.

Search order for a file name:

1. an explicit ``path`` argument (a file, or a folder holding the file);
2. the vsrbench weights folder: ``$VSRBENCH_HOME`` or ``~/.cache/vsrbench``
   (also its ``weights/`` sub-folder);
3. torch's hub cache ``$TORCH_HOME/hub/checkpoints`` (``TORCH_HOME`` defaults to
   ``$XDG_CACHE_HOME/torch`` or ``~/.cache/torch``), where torchvision keeps its files.

When the file is missing, :class:`~vsrbench.core.errors.WeightsError` names the file, every
place searched, where its authors publish it and how to place it.

Provenance: :func:`sha256_cached` hashes a file once per process (per path, size and mtime);
:func:`check_published` compares it with the published sha256 (or, for torchvision's files, the
sha256 prefix in the file name, see :func:`published_prefix`). A deliberately unpublished file
(e.g. a seeded random backbone for timing or tests) is accepted with ``VSRBENCH_UNVERIFIED_WEIGHTS=1``
or :func:`accept_unverified`; the record of the result then says ``"verified": false``.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from vsrbench.core.errors import WeightsError, os_error_message

__all__ = [
    "vsrbench_home", "search_dirs", "sha256sum", "find_weights", "UNVERIFIED_ENV",
    "sha256_cached", "model_weights_record", "published_prefix", "accept_unverified", "check_published", "download",
]


def vsrbench_home() -> Path:
    env = os.environ.get("VSRBENCH_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vsrbench"


def _torch_hub_checkpoints() -> Path:
    env = os.environ.get("TORCH_HOME")
    if env:
        base = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "torch"
    return base / "hub" / "checkpoints"


def search_dirs() -> list[Path]:
    home = vsrbench_home()
    return [home, home / "weights", _torch_hub_checkpoints()]


def sha256sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def find_weights(
    filename: str,
    *,
    path: str | os.PathLike | None = None,
    source: str | None = None,
    sha256: str | None = None,
) -> Path:
    """Return the local path of weights file ``filename``.

    ``path`` may name the file itself (any name) or a folder that holds ``filename``.
    ``source`` says where the authors publish the file (used in the error message).
    ``sha256``, when given, is checked against the file found.
    """
    searched: list[Path] = []
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return _verified(p, sha256)
        if p.is_dir() and (p / filename).is_file():
            return _verified(p / filename, sha256)
        raise WeightsError(
            f"weights file {filename!r} not found at the given path {str(p)!r}"
            + (f"; the authors publish it at {source}" if source else "")
        )
    for d in search_dirs():
        cand = d / filename
        searched.append(cand)
        if cand.is_file():
            return _verified(cand, sha256)
    where = ", ".join(str(s) for s in searched)
    get = f"; get it from {source}" if source else ""
    raise WeightsError(
        f"weights file {filename!r} not found (searched: {where}){get}; "
        f"place it in {vsrbench_home()} (or set VSRBENCH_HOME) or pass its path explicitly"
    )


def _verified(path: Path, sha256: str | None) -> Path:
    if sha256:
        got = sha256_cached(path)
        if got != sha256:
            raise WeightsError(
                f"weights file {str(path)!r} has sha256 {got}, expected {sha256}: "
                "it is not the published file (corrupt, truncated or a different release)"
            )
    return path


# ---------------------------------------------------------------------- provenance

#: set to 1 to accept weights files whose content is not the published file (recorded as unverified)
UNVERIFIED_ENV = "VSRBENCH_UNVERIFIED_WEIGHTS"

_SHA_CACHE: dict[tuple[str, int, int], str] = {}
_ACCEPTED: set[str] = set()
_PREFIX_RE = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")


def sha256_cached(path: str | os.PathLike) -> str:
    """:func:`sha256sum` of ``path``, computed once per process for one path, size and mtime."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256sum(p)
    return _SHA_CACHE[key]


def model_weights_record(weights: str | os.PathLike | None, model: Any) -> dict[str, str | None]:
    """The weights file a model's scores were made with, as run records keep it: ``{"path", "sha256"}``.

    ``weights`` is the file given (else the model's own ``weights_path``, if it has one); the sha256 is
    None when there is no such file (a model without weights, or a folder).
    """
    path = weights or getattr(model, "weights_path", None)
    if path is None or not Path(path).is_file():
        return {"path": None if path is None else str(path), "sha256": None}
    return {"path": str(path), "sha256": sha256_cached(path)}


def published_prefix(filename: str) -> str | None:
    """The sha256 prefix torchvision puts in its file names (``alexnet-owt-7be5be79.pth`` ->
    ``'7be5be79'``: the first 8 hex digits of the file's sha256), or None."""
    m = _PREFIX_RE.search(filename)
    return m.group(1) if m else None


def accept_unverified(path: str | os.PathLike) -> None:
    """Accept the file at ``path`` (in this process) although it is not the published file: for a
    deliberate custom or random file. Results computed with it record ``"verified": false``."""
    _ACCEPTED.add(str(Path(path).resolve()))


def _unverified_accepted(path: str | os.PathLike) -> bool:
    """True when ``VSRBENCH_UNVERIFIED_WEIGHTS=1`` or :func:`accept_unverified` accepted ``path``."""
    return os.environ.get(UNVERIFIED_ENV, "") == "1" or str(Path(path).resolve()) in _ACCEPTED


def check_published(path: str | os.PathLike, published_name: str, *, sha256: str | None = None,
                    what: str = "the published file", get: str = "") -> dict:
    """Check that ``path`` holds the published file ``published_name`` and return its record
    ``{"path", "sha256", "verified"}``.

    The expected value is ``sha256``, else the sha256 prefix in ``published_name``
    (:func:`published_prefix`); with neither, ``verified`` is None (nothing to check against).
    A mismatch raises :class:`WeightsError` unless the file is accepted as unverified
    (:func:`_unverified_accepted`), in which case ``verified`` is False. ``get`` says how to get
    the right file (appended to the message).
    """
    p = Path(path)
    got = sha256_cached(p)
    want = (sha256 or published_prefix(published_name) or "").lower()
    record = {"path": str(p), "sha256": got, "verified": None}
    if not want:
        return record
    if got.startswith(want):
        record["verified"] = True
        return record
    if _unverified_accepted(p):
        record["verified"] = False
        return record
    expected = want if len(want) == 64 else f"one starting {want}"
    hint = f"; {get}" if get else ""
    raise WeightsError(
        f"weights file {str(p)!r} has sha256 {got}, expected {expected} ({published_name}): it is not "
        f"{what} (corrupt, truncated or another file){hint}; to use a deliberately different file, "
        f"set {UNVERIFIED_ENV}=1 (results then record it as unverified)"
    )


# ---------------------------------------------------------------------- explicit download

def download(url: str, dest: str | os.PathLike, *, published_name: str | None = None, sha256: str | None = None,
             what: str = "the published file", stream=None, timeout: float = 60.0) -> dict:
    """Fetch ``url`` into ``dest`` and return its record ``{"path", "sha256", "verified"}``.

    The bytes go to ``dest + ".part"`` first; a ``.part`` left by an interrupted download is
    resumed (HTTP ``Range``). The file is checked against ``sha256`` (or the prefix in
    ``published_name``, see :func:`check_published`) and only then renamed to ``dest``; a
    mismatch deletes the ``.part`` and raises :class:`WeightsError`. Progress (MB, MB/s, ETA)
    goes to ``stream`` (stderr) by the rule of :mod:`vsrbench.core.progress`: every 0.5 s on a
    terminal, every ``VSRBENCH_PROGRESS_INTERVAL`` seconds (default 5) elsewhere, never with
    ``VSRBENCH_PROGRESS=0``; a closing line is always written. Standard library only (urllib).
    """
    stream = sys.stderr if stream is None else stream
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WeightsError(os_error_message(e, "create the weights folder", dest.parent)) from None
    have = part.stat().st_size if part.is_file() else 0
    t0 = time.monotonic()
    resp = _request(url, dest, have, timeout)
    done = 0
    if resp is not None:
        with resp:
            done = _receive(resp, url, dest, part, have, stream, t0)
    got, want = _check_download(part, url, dest, sha256=sha256, published_name=published_name, what=what)
    os.replace(part, dest)
    st = dest.stat()
    _SHA_CACHE[(str(dest.resolve()), st.st_size, st.st_mtime_ns)] = got
    secs = time.monotonic() - t0
    stream.write(f"{dest.name}: {st.st_size / 1e6:.1f} MB ({done / 1e6:.1f} MB downloaded in {secs:.1f} s, "
                 f"{done / 1e6 / max(secs, 1e-9):.1f} MB/s)\n")
    return {"path": str(dest), "sha256": got, "verified": True if want else None}


def _request(url: str, dest: Path, have: int, timeout: float):
    """The open HTTP response for ``url`` (from byte ``have`` on when a ``.part`` holds that many), or None
    when the server says a resumed ``.part`` is already complete (HTTP 416)."""
    import urllib.error
    import urllib.request

    headers = {"User-Agent": "vsrbench"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if not (e.code == 416 and have):  # 416 with a .part: it is already complete
            raise WeightsError(f"cannot download {url}: HTTP {e.code} {e.reason}; nothing was written to "
                               f"{str(dest)!r}; check the URL (or --url) and retry") from None
        return None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise WeightsError(f"cannot download {url}: {_net_reason(e)}; nothing was written to {str(dest)!r}; "
                           "check the network (or --url) and retry") from None


def _receive(resp, url: str, dest: Path, part: Path, have: int, stream, t0: float) -> int:
    """Write the body of ``resp`` to ``part`` (appended when the server resumes at ``have``), with the
    progress lines; returns the bytes received. A broken or short transfer keeps ``part`` for a resume."""
    import http.client

    resumed = bool(have) and resp.status == 206
    start = have if resumed else 0
    total = _total_size(resp, start)
    size = f"{total / 1e6:.1f} MB" if total is not None else "size unknown"
    stream.write(f"{dest.name}: downloading {url} ({size}"
                 + (f", resuming at {start / 1e6:.1f} MB)\n" if resumed else ")\n"))
    last, every, done = t0, _progress_interval(stream), 0
    try:
        with open(part, "ab" if resumed else "wb") as f:
            while True:
                block = resp.read(1 << 16)
                if not block:
                    break
                f.write(block)
                done += len(block)
                now = time.monotonic()
                if every is not None and now - last >= every:
                    last = now
                    _progress_line(stream, dest.name, start + done, total, done, now - t0)
    except (OSError, http.client.HTTPException) as e:
        if not isinstance(e, OSError) or isinstance(e, (TimeoutError, ConnectionError)) or e.errno is None:
            raise WeightsError(f"download of {url} stopped after {(start + done) / 1e6:.1f} MB: "
                               f"{_net_reason(e)}; run the same command again to resume from "
                               f"{str(part)!r}") from None
        raise WeightsError(os_error_message(e, "write", part)) from None
    if total is not None and start + done < total:
        raise WeightsError(f"download of {url} stopped after {(start + done) / 1e6:.1f} of "
                           f"{total / 1e6:.1f} MB; run the same command again to resume from {str(part)!r}")
    return done


def _check_download(part: Path, url: str, dest: Path, *, sha256: str | None, published_name: str | None,
                    what: str) -> tuple[str, str]:
    """The sha256 of ``part`` and the digest (or prefix) it must start with ('' when none is known); a
    mismatch deletes ``part`` and raises :class:`WeightsError`."""
    got = sha256sum(part)
    want = (sha256 or (published_prefix(published_name) if published_name else None) or "").lower()
    if want and not got.startswith(want):
        part.unlink()
        expected = want if len(want) == 64 else f"one starting {want}"
        raise WeightsError(f"the file downloaded from {url} has sha256 {got}, expected {expected} "
                           f"({published_name or dest.name}): it is not {what}; deleted it, nothing was "
                           f"written to {str(dest)!r}")
    return got, want


def _total_size(resp, start: int) -> int | None:
    rng = resp.headers.get("Content-Range", "")
    if "/" in rng and rng.rsplit("/", 1)[1].strip().isdigit():
        return int(rng.rsplit("/", 1)[1])
    length = resp.headers.get("Content-Length")
    return start + int(length) if length and length.isdigit() else None


def _net_reason(e: BaseException) -> str:
    reason = getattr(e, "reason", None) or e
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the server up?)"
    if isinstance(reason, TimeoutError):
        return "timed out"
    text = getattr(reason, "strerror", None) or str(reason)
    return " ".join(text.split()) or type(reason).__name__


def _progress_interval(stream) -> float | None:
    """Seconds between two download progress lines (None: none), as for every other long step."""
    from vsrbench.core.progress import TTY_INTERVAL_S, is_terminal, line_interval, progress_enabled

    if not progress_enabled(stream):
        return None
    return TTY_INTERVAL_S if is_terminal(stream) else line_interval()


def _progress_line(stream, name: str, have: int, total: int | None, done: int, secs: float) -> None:
    rate = done / max(secs, 1e-9)
    if total:
        eta = (total - have) / rate if rate > 0 else float("inf")
        eta_s = "?" if eta == float("inf") else f"{int(eta) // 60}:{int(eta) % 60:02d}"
        text = f"{name}: {have / 1e6:.1f}/{total / 1e6:.1f} MB ({100 * have / total:.0f}%), {rate / 1e6:.1f} MB/s, ETA {eta_s}"
    else:
        text = f"{name}: {have / 1e6:.1f} MB, {rate / 1e6:.1f} MB/s"
    stream.write(text + "\n")
    stream.flush()


def load_problem(path: str | os.PathLike, error: BaseException) -> str:
    """What is wrong with a weights file that ``torch.load(path, weights_only=True)`` refused, in words about
    the file. torch's own message advises loading it again with ``weights_only=False``, which runs whatever
    code a pickle holds; that advice is not passed on."""
    try:
        size = os.path.getsize(path)
    except OSError:
        size = None
    text = str(error)
    if size == 0:
        return "the file is empty"
    if "Weights only load failed" in text:
        detail = text.split("WeightsUnpickler error:", 1)[-1].strip().splitlines() if "WeightsUnpickler error:" in text else []
        reason = next((line.strip() for line in detail if line.strip()), "")
        return ("it is not a file of tensors: it holds pickled data a weights file does not"
                + (f" ({reason})" if reason else ""))
    if isinstance(error, EOFError):
        return f"the file ends early ({size} bytes): it is cut short"
    return "it is not a PyTorch weights file (neither torch.save's zip archive nor a pickle of tensors)"
