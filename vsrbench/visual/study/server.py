"""``vsrbench study serve STUDY/``: the study's page over HTTP (standard library only), each answer stored
into ``STUDY/study.sqlite`` as it is given (:class:`~vsrbench.visual.study.answers.AnswerStore`).

Routes: ``GET /`` (the page, marked served), ``GET /study.js``, ``/study.css`` and the frames under
``/img/``; nothing else of the folder (not the answers, not the store) is served. ``POST /api/participant``
creates a participant (a random token, the next design in turn, a random seed of its order);
``GET /api/progress?participant=TOKEN`` lists the trials the participant has stored (a reloaded page
asks before sending again what it holds unacknowledged); ``POST /api/answer`` stores one answer
(``{"participant": TOKEN, "trial": ID, "left", "right", "choice", "seconds"}``) and answers 200 only
once it is committed. Refusals: 400 malformed JSON or fields, 404 an unknown participant or trial,
409 a trial answered already, 411 no ``Content-Length``, 413 a body over :data:`MAX_BODY` bytes; none
of them touches the store.
"""
from __future__ import annotations

import json
import mimetypes
import os
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from vsrbench.core.errors import InputError
from vsrbench.visual.study.answers import AnswerStore, SubmissionError, load_study

__all__ = ["MAX_BODY", "StudyServeRequest", "StudyServer", "make_server", "serve_study"]

MAX_BODY = 16 * 1024  # bytes of a request body (an answer is ~150)
_STATIC = ("study.js", "study.css")


@dataclass(frozen=True)
class StudyServeRequest:
    """What ``vsrbench study serve`` serves: the study folder ``study`` on ``host``:``port`` (0: any free port)."""

    study: str
    port: int = 8000
    host: str = "127.0.0.1"


class StudyServer(ThreadingHTTPServer):
    """The HTTP server of one study: its folder, its parsed ``study.json``, its page and its store."""

    daemon_threads = True

    def __init__(self, address, study_dir: Path):
        from vsrbench.visual.study.site import page_html

        self.study_dir = Path(study_dir)
        self.study = load_study(self.study_dir)
        self.page = page_html(self.study, mode="served").encode("utf-8")
        self.store = AnswerStore(self.study_dir, self.study)
        try:
            super().__init__(address, _Handler)
        except BaseException:
            self.store.close()
            raise

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def server_close(self) -> None:
        super().server_close()
        self.store.close()


class _Handler(BaseHTTPRequestHandler):
    server: StudyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # quiet: no request log on stderr
        return

    def _send(self, status: int, body: bytes, kind: str, *, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store" if kind.startswith("application/json") else "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: dict, *, close: bool = False) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), "application/json; charset=utf-8", close=close)

    def do_GET(self) -> None:  # the http.server name
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        if path == "/api/progress":
            return self._progress(parse_qs(parts.query).get("participant", [""])[0])
        if path in ("/", "/index.html"):
            return self._send(200, self.server.page, "text/html; charset=utf-8")
        file = _static_file(self.server.study_dir, path)
        if file is None:
            return self._json(404, {"error": "not found"})
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self._send(200, file.read_bytes(), kind)

    do_HEAD = do_GET

    def _progress(self, token: str) -> None:
        """The trials a participant has stored (a page reloaded with answers not yet acknowledged asks)."""
        if self.server.store.participant(token) is None:
            return self._json(404, {"error": "unknown participant"})
        self._json(200, {"answered": self.server.store.answered(token)})

    def _body(self):
        """The request's JSON body, or None once a refusal has been sent."""
        length = self.headers.get("Content-Length")
        if length is None:
            self._json(411, {"error": "a Content-Length is required"}, close=True)
            return None
        try:
            n = int(length)
        except ValueError:
            n = -1
        if n < 0:
            self._json(400, {"error": "bad Content-Length"}, close=True)
            return None
        if n > MAX_BODY:  # refused unread; the connection is closed
            self._json(413, {"error": f"request body over {MAX_BODY} bytes"}, close=True)
            return None
        raw = self.rfile.read(n)
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._json(400, {"error": "the body is not JSON"})
            return None

    def do_POST(self) -> None:  # the http.server name
        path = urlsplit(self.path).path
        if path not in ("/api/participant", "/api/answer"):
            return self._json(404, {"error": "not found"}, close=True)
        body = self._body()
        if body is None:
            return None
        if path == "/api/participant":
            token, design, seed = self.server.store.new_participant()
            return self._json(200, {"participant": token, "design": design, "seed": seed})
        if not isinstance(body, dict):
            return self._json(400, {"error": "an answer must be a JSON object"})
        try:
            answer = self.server.store.add(body.get("participant"), body)
        except SubmissionError as e:
            return self._json(e.status, {"error": str(e)})
        return self._json(200, {"stored": answer.trial})


def _static_file(study_dir: Path, path: str) -> Path | None:
    """The file a GET may read: the page's assets and the frames under ``img/``; None for anything else."""
    rel = path.lstrip("/")
    if rel in _STATIC:
        return study_dir / rel
    parts = rel.split("/")
    if len(parts) < 2 or parts[0] != "img" or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    file = study_dir.joinpath(*parts)
    return file if file.is_file() and file.suffix == ".png" else None


def make_server(request: StudyServeRequest) -> StudyServer:
    """The server of ``request`` (bound, not yet serving): ``server.serve_forever()`` runs it."""
    port = request.port
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InputError(f"--port: expected a port number in 0..65535, got {port!r}")
    try:
        return StudyServer((request.host, port), Path(request.study))
    except OSError as e:
        raise InputError(f"cannot serve on {request.host}:{port}: {e.strerror or e}; choose another --port") from None


def serve_study(request: StudyServeRequest, *, say: Callable[[str], None] | None = None) -> int:
    """Serve the study until interrupted (Ctrl-C); says the address first. Returns the number of answers
    stored while it ran."""
    server = make_server(request)
    before = len(server.store.answers())
    (say or (lambda line: (sys.stdout.write(line + "\n"), sys.stdout.flush())))(
        f"serving the study {request.study} at {server.url} (answers into "
        f"{os.path.join(request.study, 'study.sqlite')}; Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stored = len(server.store.answers()) - before
        server.server_close()
    return stored
