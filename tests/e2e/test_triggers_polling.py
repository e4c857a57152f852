"""Polling triggers against the local service: 1,000 mixed changes, each emitted exactly once,
also across an expired delta link; a deleted event comes with its last known copy."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import mscal
from mscal.sandbox.service import Sandbox
from mscal.triggers.state import FileStateStore, MemoryStateStore
from mscal.triggers.trigger import Change
from mscal.triggers.watch import Watch
from tests.e2e.trigger_scenario import Scenario, emitted, timed_event

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _watch(
    connector: mscal.Connector, auth: mscal.Authentication, name: str = "event_changed"
) -> tuple[Watch, list[dict[str, Any]]]:
    out: list[dict[str, Any]] = []
    trigger = connector.trigger(name, {}, auth=auth, clock=lambda: NOW)
    watch = Watch(
        trigger, MemoryStateStore(), lambda cs: out.extend(c.to_dict() for c in cs), interval=1
    )
    return watch, out


def test_a_thousand_mixed_changes_are_each_emitted_once(
    connector: mscal.Connector, sandbox: Sandbox, alex: mscal.Authentication
) -> None:
    watch, out = _watch(connector, alex)
    assert watch.round() == []  # the first run records a baseline and emits nothing
    scenario = Scenario(sandbox.tenant, NOW)
    expected: Counter[tuple[str, str]] = Counter()
    for number in range(20):
        batch = scenario.batch(50)
        expected += batch
        before = len(out)
        watch.round()
        assert emitted(out[before:]) == batch
        if number == 7:
            sandbox.tenant.delta.expire_tokens()  # the next round resyncs: still exactly once
        if number % 5 == 0:
            assert watch.round() == []  # a round with nothing new emits nothing
    assert sum(scenario.applied.values()) == 1000
    assert set(scenario.applied) == {
        "create", "update", "delete", "invite", "cancel", "series",
        "edit_occurrence", "delete_occurrence",
    }  # fmt: skip
    assert emitted(out) == expected  # 0 lost, 0 repeated
    assert len({c["dedupe_key"] for c in out}) == len(out)
    described = {t["name"]: t for t in connector.describe()["triggers"]}
    output = jsonschema.Draft202012Validator(described["event_changed"]["output_schema"])
    for change in out:  # each change as the trigger's output schema says
        output.validate(change)
    changes = Counter(c["change"] for c in out)
    assert set(changes) == {"created", "updated", "deleted", "cancelled"}


def test_a_deleted_event_comes_with_its_last_known_copy(
    connector: mscal.Connector, sandbox: Sandbox, alex: mscal.Authentication
) -> None:
    watch, out = _watch(connector, alex, "event_deleted")
    watch.round()
    owner = sandbox.tenant.user_owner("alex@contoso.onmicrosoft.com")
    start = (NOW + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    end = (NOW + dt.timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    body = {
        "subject": "Budget review",
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
    }
    event, _ = sandbox.tenant.create_event(owner, None, body)
    assert watch.round() == []  # event_deleted emits deletions only
    sandbox.tenant.events.delete_event(owner, event["id"])
    watch.round()
    assert [(c["change"], c["event_id"]) for c in out] == [("deleted", event["id"])]
    kept = out[0]["event"]
    assert kept["subject"] == "Budget review"
    assert kept["start"]["dateTime"].startswith(start)
    assert out[0]["trigger"] == "event_deleted"


def test_emit_existing_emits_what_is_there_on_a_first_run(
    connector: mscal.Connector, alex: mscal.Authentication
) -> None:
    trigger = connector.trigger("event_created", {}, auth=alex, emit_existing=True)
    first = trigger.poll(None)
    assert first.changes and {c.change for c in first.changes} == {"created"}
    assert trigger.poll(first.state).changes == []


def test_bad_inputs_name_the_field(connector: mscal.Connector, alex: mscal.Authentication) -> None:
    with pytest.raises(mscal.InputError) as caught:
        connector.trigger("event_starting_soon", {"look_ahead_minutes": 0}, auth=alex)
    assert caught.value.field == "look_ahead_minutes"
    with pytest.raises(mscal.InputError) as caught:
        connector.trigger("event_created", {"colour": "red"}, auth=alex)
    assert "colour" in str(caught.value)


def test_starting_soon_is_emitted_once_per_occurrence(
    connector: mscal.Connector, sandbox: Sandbox, alex: mscal.Authentication
) -> None:
    owner = sandbox.tenant.user_owner("alex@contoso.onmicrosoft.com")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    day = soon.strftime("%Y-%m-%d")
    body = {
        "subject": "Daily check-in",
        "start": {"dateTime": soon.strftime("%Y-%m-%dT%H:%M:00"), "timeZone": "UTC"},
        "end": {"dateTime": (soon + dt.timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:00"),
                "timeZone": "UTC"},
        "recurrence": {"pattern": {"type": "daily", "interval": 1},
                       "range": {"type": "numbered", "numberOfOccurrences": 3, "startDate": day}},
    }  # fmt: skip
    master, _ = sandbox.tenant.create_event(owner, None, body)
    trigger = connector.trigger("event_starting_soon", {"look_ahead_minutes": 15}, auth=alex)
    first = trigger.poll(None)
    found = [c for c in first.changes if c.event["subject"] == "Daily check-in"]
    assert [c.change for c in found] == ["starting_soon"]  # today's occurrence, not the series'
    assert found[0].event["seriesMasterId"] == master["id"]
    assert trigger.poll(first.state).changes == []  # once


def test_a_quiet_round_writes_nothing_and_the_next_one_still_emits_each_change_once(
    connector: mscal.Connector, sandbox: Sandbox, megan: mscal.Authentication, tmp_path: Path
) -> None:
    # A quiet round (nothing read, nothing changed) leaves the saved state as it was: its delta
    # link lists the same nothing. The watch starts its next round from the state it kept, and a
    # restart from the file (a crash after the quiet round) emits the change once too.
    state_file = tmp_path / "state.json"
    store = FileStateStore(state_file, single_file=True)
    out: list[dict[str, Any]] = []
    trigger = connector.trigger("event_changed", {}, auth=megan, clock=lambda: NOW)
    watch = Watch(trigger, store, lambda cs: out.extend(c.to_dict() for c in cs), interval=1)
    watch.round()  # the baseline
    saved = store.mark(trigger.key)
    assert watch.round() == [] and watch.round() == []
    assert store.mark(trigger.key) == saved  # two quiet rounds wrote nothing

    owner = sandbox.tenant.user_owner("megan@contoso.onmicrosoft.com")
    body = timed_event("Quarterly planning", NOW + dt.timedelta(days=3))
    event, _ = sandbox.tenant.create_event(owner, None, body)
    restarted = Watch(trigger, store, lambda cs: out.extend(c.to_dict() for c in cs), interval=1)
    assert [(c.change, c.event_id) for c in watch.round()] == [("created", event["id"])]
    assert store.mark(trigger.key) != saved
    assert watch.round() == [] and restarted.round() == []  # once, from either

    # Another writer's save (here: the state as it was before the change) is read again, not
    # the copy the watch kept: the change comes again, with the same dedupe key.
    sandbox.tenant.events.update_event(owner, event["id"], {"subject": "Planning, moved"})
    before = state_file.read_bytes()
    first = watch.round()
    state_file.write_bytes(before)
    again = watch.round()
    assert [c.dedupe_key for c in again] == [c.dedupe_key for c in first]
    assert [c["change"] for c in out] == ["created", "updated", "updated"]


def test_a_builder_polls_from_the_state_it_gave_and_saves_after_emitting(
    connector: mscal.Connector, sandbox: Sandbox, megan: mscal.Authentication, tmp_path: Path
) -> None:
    owner = sandbox.tenant.user_owner("megan@contoso.onmicrosoft.com")

    def create(subject: str) -> str:
        body = timed_event(subject, NOW + dt.timedelta(days=4))
        event, _ = sandbox.tenant.create_event(owner, None, body)
        return str(event["id"])

    # The state as a dict: given at construction (None: a first run), advanced by save().
    trigger = connector.trigger("event_created", {}, auth=megan, state=None, clock=lambda: NOW)
    baseline = trigger.poll()
    assert baseline.changes == []
    trigger.save(baseline)
    first = create("Design review")
    found = trigger.poll()
    assert [(c.change, c.event_id) for c in found.changes] == [("created", first)]
    again = trigger.poll()  # not saved (the workflow failed, say): the same change again
    assert [c.dedupe_key for c in again.changes] == [c.dedupe_key for c in found.changes]
    trigger.save(again)
    assert trigger.poll().changes == []
    resumed = connector.trigger("event_created", {}, auth=megan, state=again.state)
    assert resumed.poll().changes == []  # a saved state given to a new trigger object

    # The state in a store: poll() loads it, save() writes it; another object continues.
    store = FileStateStore(tmp_path)
    stored = connector.trigger("event_created", {}, auth=megan, state=store, clock=lambda: NOW)
    stored.save(stored.poll())
    second = create("Retrospective")
    later = connector.trigger("event_created", {}, auth=megan, state=store, clock=lambda: NOW)
    result = later.poll()
    assert [(c.change, c.event_id) for c in result.changes] == [("created", second)]
    later.save(result)
    assert stored.poll().changes == []

    # A state that belongs to another trigger is refused, naming the state.
    other = connector.trigger("event_deleted", {}, auth=megan, state=again.state)
    with pytest.raises(mscal.InputError) as caught:
        other.poll()
    assert caught.value.field == "state"
    assert "event_created" in str(caught.value)


def test_a_starting_soon_watch_wakes_on_time_whatever_its_interval(
    connector: mscal.Connector, sandbox: Sandbox, megan: mscal.Authentication
) -> None:
    # The interval is an hour, and nothing changes in the calendar: the watch still runs a
    # round when the next event comes within the look-ahead (here, in about 3 seconds).
    owner = sandbox.tenant.user_owner("megan@contoso.onmicrosoft.com")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=63)
    event, _ = sandbox.tenant.create_event(owner, None, timed_event("Stand-up", start, 15))
    trigger = connector.trigger("event_starting_soon", {"look_ahead_minutes": 1}, auth=megan)
    arrived = threading.Event()
    out: list[Change] = []

    def emit(changes: list[Change]) -> None:
        out.extend(changes)
        arrived.set()

    watch = Watch(trigger, MemoryStateStore(), emit, interval=3600)
    runner = threading.Thread(target=watch.run)
    runner.start()
    try:
        assert arrived.wait(timeout=15), "not announced on time"
    finally:
        watch.stop()
        runner.join(timeout=10)
        watch.close()
    assert [(c.change, c.event_id) for c in out] == [("starting_soon", event["id"])]
    assert dt.datetime.now(dt.UTC) >= start - dt.timedelta(minutes=1)  # not before its time
