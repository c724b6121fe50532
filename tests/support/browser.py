"""A page as a person's browser shows it: served on localhost, rendered by headless Chromium (Debian's package,
installed by scripts/setup_browser.sh), its DOM read after the page's scripts ran."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Without the background-networking flags Chromium keeps calling Google's hosts, which this closed network refuses.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
SCRIPT_SECONDS = 20


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """No line per request in the test output."""


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on a free localhost port, for as long as the block runs; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def rendered_page(folder: Path) -> str:
    """The DOM of ``folder``'s index.html once its scripts ran, as headless Chromium renders it."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is missing: run scripts/setup_browser.sh (make test runs it).")
    with served(folder) as url, tempfile.TemporaryDirectory() as profile:
        page = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--virtual-time-budget={SCRIPT_SECONDS * 1000}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False)
    assert page.returncode == 0, page.stderr[-2000:]
    return page.stdout
