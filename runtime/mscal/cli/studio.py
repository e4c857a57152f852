"""`mscal studio`: the properties panel of the shipped spec (or a fork) on a local page."""

from __future__ import annotations

import argparse
import signal
import threading
import time
import webbrowser
from typing import Any

from mscal.call.guard import is_loopback


def add_parser(commands: Any) -> None:
    studio = commands.add_parser(
        "studio", help="try the connector in a local page, as a builder's panel shows it"
    )
    studio.add_argument(
        "path", nargs="?", help="a connector directory (default: --spec, else the shipped one)"
    )
    studio.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback)"
    )
    studio.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    studio.add_argument(
        "--no-browser", action="store_true", help="print the page's address; do not open it"
    )


def run_studio(args: argparse.Namespace) -> int:
    # Imported here: `mscal --help` reads this module's arguments without the web stack.
    from mscal.sandbox.server import BackgroundServer  # noqa: PLC0415
    from mscal.studio.app import Studio  # noqa: PLC0415

    # Ctrl-C (and SIGTERM) stop it, also when it was started with SIGINT ignored, as a
    # background job or under nohup is: Python then never raises KeyboardInterrupt by itself.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    studio = Studio(args.path or args.spec)
    studio.spec.connector()  # a broken spec stops here, with the loader's message
    server = BackgroundServer(studio.app, args.host, args.port)
    url = studio.bound(server.url)
    server.start()
    print(f"Connector studio for {studio.spec.root}: {url}", flush=True)
    if not is_loopback(args.host):
        print("Warning: listening beyond loopback; the token in the URL is all that guards it.")
    print("Press Ctrl+C to stop.", flush=True)
    if not args.no_browser:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        while True:
            time.sleep(3600)
    finally:
        studio.watches.stop_all()
        server.stop()
