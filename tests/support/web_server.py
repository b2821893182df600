"""The web app served over HTTP on 127.0.0.1 for browser tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from werkzeug.serving import make_server


def served_app(app) -> Iterator[str]:
    """Serve a Flask app on a free port of 127.0.0.1 in a thread (a pytest fixture body):
    yield its address, stop it afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
