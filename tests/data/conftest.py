"""The local HTTP server of the download tests: 127.0.0.1 only, in a thread, never the internet."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

SHORT_BODY = bytes(100)


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; /short promises more bytes (Content-Length) than it sends, then hangs up."""

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path != "/short":
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(10 * len(SHORT_BODY)))
        self.end_headers()
        self.wfile.write(SHORT_BODY)
        self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server(tmp_path):
    """(folder served, base URL, list of requested paths)."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Handler, directory=str(root)))
    httpd.requests = []
    # shutdown() waits up to one poll interval; the default 0.5 s would dominate the run time
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/", httpd.requests
    httpd.shutdown()
    httpd.server_close()
    thread.join()
