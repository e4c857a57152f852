"""`mscal triggers` and `mscal watch`: one JSON line per change on stdout, the state saved
after each batch; Ctrl-C (or SIGTERM) stops after the round in flight."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from mscal.cli.run import connection, read_inputs
from mscal.cli.usage import UsageError, print_json
from mscal.connector import Connector
from mscal.triggers.state import FileStateStore
from mscal.triggers.trigger import Change
from mscal.triggers.watch import Watch

# Polling mode's default interval between rounds, in seconds.
POLL_INTERVAL = 60.0


def add_parsers(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    listing = commands.add_parser("triggers", help="list the triggers")
    listing.add_argument("--json", action="store_true", help="print JSON")

    watch = commands.add_parser(
        "watch", help="run a trigger: one JSON line per change, exactly once"
    )
    watch.add_argument("trigger")
    watch.add_argument("--input", metavar="JSON", help="inputs as JSON, or @file.json")
    watch.add_argument(
        "--set", metavar="KEY=VALUE", action="append", default=[], help="one input; repeatable"
    )
    watch.add_argument("--auth", metavar="NAME", help="a named authentication")
    watch.add_argument("--token", metavar="TOKEN", help="a bearer token as given")
    watch.add_argument("--base-url", metavar="URL", help="override the Graph base URL")
    watch.add_argument(
        "--state",
        metavar="FILE",
        help="where the trigger's state is kept (default: mscal-watch-TRIGGER.json here); "
        "a restart with the same file neither loses nor repeats a change",
    )
    watch.add_argument(
        "--interval",
        metavar="SECONDS",
        type=float,
        help=f"seconds between rounds (default: {POLL_INTERVAL:g}; with --webhook, the "
        "spec's safety round)",
    )
    watch.add_argument("--once", action="store_true", help="run one round and exit")
    watch.add_argument(
        "--webhook",
        metavar="PUBLIC_URL",
        help="keep a subscription notifying this URL (it must reach --listen); a round runs "
        "when notified",
    )
    watch.add_argument(
        "--listen", metavar="HOST:PORT", help="with --webhook: where to receive notifications"
    )
    watch.add_argument(
        "--emit-existing",
        action="store_true",
        help="on a first run, emit the events that exist as created (default: record them)",
    )


def list_triggers(connector: Connector, *, as_json: bool) -> int:
    triggers = connector.triggers
    if as_json:
        print_json(
            [
                {k: t[k] for k in ("name", "title", "group", "changes", "modes", "description")}
                for t in triggers
            ]
        )
        return 0
    width = max((len(t["name"]) for t in triggers), default=0)
    for trigger in triggers:
        print(f"{trigger['name']:<{width}}  {trigger['title']} ({', '.join(trigger['changes'])})")
    return 0


def watch_command(connector: Connector, args: argparse.Namespace) -> int:
    described = connector.describe_trigger(args.trigger)
    inputs = read_inputs(args.input, args.set, described["input_schema"])
    if args.interval is not None and not args.interval > 0:
        raise UsageError("--interval: must be a number of seconds above 0")
    if bool(args.webhook) != bool(args.listen):
        raise UsageError("--webhook PUBLIC_URL and --listen HOST:PORT go together")
    tokens, base_url = connection(connector, args)
    trigger = connector.trigger(
        args.trigger, inputs, auth=tokens, base_url=base_url, emit_existing=args.emit_existing
    )
    state_path = Path(args.state or f"mscal-watch-{args.trigger}.json")
    store = FileStateStore(state_path, single_file=True)
    with connector.session(tokens, base_url=base_url) as session:
        watch = Watch(
            trigger,
            store,
            print_changes,
            interval=args.interval or POLL_INTERVAL,
            session=session,
        )
        watch.load()  # a state file of another trigger is refused before anything is sent
        if args.once:
            watch.run(once=True)
            return 0
        _stop_on_signals(watch)
        if args.webhook:
            # Imported here: only webhook mode needs the listener and its web server.
            from mscal.cli.webhook import run_webhook  # noqa: PLC0415

            return run_webhook(watch, args.webhook, args.listen, args.interval)
        watch.run()
    return 0


def print_changes(changes: list[Change]) -> None:
    """The batch in one write, flushed: a reader sees whole lines."""
    lines = "".join(
        json.dumps(c.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n" for c in changes
    )
    sys.stdout.write(lines)
    sys.stdout.flush()


def _stop_on_signals(watch: Watch) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        watch.stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
