"""The parsed-spec cache: it gives back what parsing would, notices any change of content, is
read only by the Python that wrote it and only from a directory nobody else can write, and a
cold start stays lean."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mscal
from mscal.spec import cache as cache_module
from mscal.spec.cache import ENV, RUNTIME_TAG, ParsedFiles
from mscal.spec.load import load_spec, read_yaml
from mscal.spec.meta_schemas import MetaSchemas


def _source(tmp_path: Path, text: str = "a: 1\n") -> Path:
    source = tmp_path / "a.yaml"
    source.write_text(text)
    return source


def _saved(source: Path, cache: Path) -> ParsedFiles:
    files = ParsedFiles(source.parent, cache)
    files.get(source, read_yaml)
    files.save()
    return files


def test_a_parsed_file_comes_from_the_cache_until_it_changes(tmp_path: Path) -> None:
    source = _source(tmp_path)
    cache = tmp_path / "cache"
    first = ParsedFiles(tmp_path, cache)
    assert first.get(source, read_yaml) == {"a": 1}
    first.save()
    second = ParsedFiles(tmp_path, cache)
    document = second.get(source, read_yaml)
    assert (document, second.hits) == ({"a": 1}, 1)
    document["a"] = 99  # a caller changing its copy does not change the cache
    assert ParsedFiles(tmp_path, cache).get(source, read_yaml) == {"a": 1}
    source.write_text("a: 22\n")  # another size: parsed again
    third = ParsedFiles(tmp_path, cache)
    assert (third.get(source, read_yaml), third.hits) == ({"a": 22}, 0)


def test_a_one_byte_change_with_the_same_size_and_mtime_is_seen(tmp_path: Path) -> None:
    source = _source(tmp_path, "a: 1\n")
    cache = tmp_path / "cache"
    _saved(source, cache)
    before = source.stat()
    source.write_text("a: 2\n")
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = source.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    files = ParsedFiles(tmp_path, cache)
    assert (files.get(source, read_yaml), files.hits) == ({"a": 2}, 0)


def test_another_pythons_cache_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _source(tmp_path)
    cache = tmp_path / "cache"
    ours = _saved(source, cache)
    assert RUNTIME_TAG in ours.path.name  # each Python writes a file of its own
    # Another Python looks for its own file, and does not find ours.
    monkeypatch.setattr(cache_module, "RUNTIME_TAG", "cpython-399-marshal99")
    other = ParsedFiles(tmp_path, cache)
    assert other.path != ours.path
    assert (other.get(source, read_yaml), other.hits) == ({"a": 1}, 0)
    monkeypatch.undo()
    # A file under our name that another Python wrote is not read either.
    saved = marshal.loads(ours.path.read_bytes())
    ours.path.write_bytes(marshal.dumps({**saved, "runtime": "cpython-399-marshal99"}))
    again = ParsedFiles(tmp_path, cache)
    assert (again.get(source, read_yaml), again.hits) == ({"a": 1}, 0)
    # ...while the same file, as this Python wrote it, is.
    ours.path.write_bytes(marshal.dumps(saved))
    assert ParsedFiles(tmp_path, cache).entries


def test_a_group_writable_cache_directory_is_neither_read_nor_written(tmp_path: Path) -> None:
    source = _source(tmp_path)
    cache = tmp_path / "cache"
    written = _saved(source, cache)
    content = written.path.read_bytes()
    cache.chmod(0o770)
    files = ParsedFiles(tmp_path, cache)
    assert files.entries == {}
    assert (files.get(source, read_yaml), files.hits) == ({"a": 1}, 0)
    source.write_text("a: 333\n")
    changed = ParsedFiles(tmp_path, cache)
    assert changed.get(source, read_yaml) == {"a": 333}
    changed.save()
    assert written.path.read_bytes() == content  # nothing written there
    assert [p.name for p in cache.iterdir()] == [written.path.name]


def test_a_cache_file_others_may_write_is_not_read(tmp_path: Path) -> None:
    source = _source(tmp_path)
    written = _saved(source, tmp_path / "cache")
    written.path.chmod(0o666)
    assert ParsedFiles(tmp_path, tmp_path / "cache").entries == {}


def test_a_cache_directory_owned_by_someone_else_is_neither_read_nor_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path)
    cache = tmp_path / "cache"
    written = _saved(source, cache)
    content = written.path.read_bytes()
    someone_else = os.getuid() + 4242
    # The directory and the file are now another user's, as far as the cache can tell.
    monkeypatch.setattr(os, "getuid", lambda: someone_else)
    files = ParsedFiles(tmp_path, cache)
    assert files.entries == {}
    source.write_text("a: 4444\n")
    assert files.get(source, read_yaml) == {"a": 4444}
    files.save()
    assert written.path.read_bytes() == content


def test_a_new_cache_directory_is_private(tmp_path: Path) -> None:
    cache = tmp_path / "deep" / "cache"
    written = _saved(_source(tmp_path), cache)
    for directory in (cache, cache.parent):
        assert directory.stat().st_mode & 0o777 == 0o700
    assert written.path.stat().st_mode & 0o777 == 0o600


def test_documents_marshal_cannot_hold_are_parsed_each_time(tmp_path: Path) -> None:
    source = _source(tmp_path, "when: 2026-11-23\n")  # a YAML timestamp
    files = ParsedFiles(tmp_path, tmp_path / "cache")
    assert str(files.get(source, read_yaml)["when"]) == "2026-11-23"
    files.save()
    assert not (tmp_path / "cache").exists()


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "off")
    files = ParsedFiles(tmp_path, tmp_path / "cache")
    files.get(_source(tmp_path), read_yaml)
    files.save()
    assert not (tmp_path / "cache").exists()


def test_a_broken_cache_file_is_ignored(tmp_path: Path) -> None:
    source = _source(tmp_path)
    cache = tmp_path / "cache"
    files = ParsedFiles(tmp_path, cache)
    cache.mkdir(mode=0o700)
    files.path.write_bytes(b"not marshal at all")
    assert ParsedFiles(tmp_path, cache).get(source, read_yaml) == {"a": 1}


def test_a_warm_load_checks_no_file_against_the_meta_schemas(
    spec_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    checked: list[str] = []
    real = MetaSchemas.errors

    def counting(self: MetaSchemas, name: str, document: object) -> list[object]:
        checked.append(name)
        return real(self, name, document)  # type: ignore[return-value]

    monkeypatch.setattr(MetaSchemas, "errors", counting)
    load_spec(spec_copy, fresh=True)
    operation_files = len(list((spec_copy / "operations").glob("*.yaml")))
    trigger_files = len(list((spec_copy / "triggers").glob("*.yaml")))
    assert sorted(set(checked)) == [
        "connector.schema.json",
        "operations.schema.json",
        "triggers.schema.json",
    ]
    assert len(checked) == 1 + operation_files + trigger_files
    checked.clear()
    load_spec(spec_copy, fresh=True)
    assert checked == []  # the cache says they were checked, as they are
    groups = spec_copy / "operations" / "calendar_groups.yaml"
    groups.write_text(groups.read_text() + "\n# edited\n")
    load_spec(spec_copy, fresh=True)
    assert checked == ["operations.schema.json"]  # only the edited file, once more


def test_a_file_cached_unchecked_is_checked_when_a_check_is_asked(
    spec_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    manifest = spec_copy / "connector.yaml"
    manifest.write_text(manifest.read_text().replace("title: Microsoft", "titel: Microsoft", 1))
    load_spec(spec_copy, lenient=True)  # the linter's load: parsed and cached, not checked
    with pytest.raises(mscal.SpecError, match="title: is required"):
        load_spec(spec_copy, fresh=True)


def test_a_cached_spec_is_the_same_spec(spec_copy: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    script = (
        "import dataclasses, json, sys; from mscal.spec.load import load_spec; "
        "s = load_spec(sys.argv[1]); "
        "shown = lambda o: sorted(o) if isinstance(o, frozenset) else str(o); "
        "print(json.dumps([sorted(s.operations), s.manifest, dataclasses.asdict(s.defaults)], "
        "sort_keys=True, default=shown))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, str(spec_copy)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert list((tmp_path / "xdg").rglob("spec-*.marshal"))  # the second run read the cache
    edited = (spec_copy / "connector.yaml").read_text().replace("title:", "title: Edited #", 1)
    (spec_copy / "connector.yaml").write_text(edited)
    assert load_spec(spec_copy, fresh=True).manifest["title"].startswith("Edited")


def test_a_sync_cli_call_does_not_import_the_event_loop(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    script = (
        "import sys, mscal.cli.main; from mscal.connector import load_connector; load_connector(); "
        "load_connector().compiled('list_calendars'); "
        "lazy = ('asyncio', 'mscal.call.batching', 'mscal.io.bulk', 'yaml'); "
        "print(sorted(m for m in lazy if m in sys.modules))"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    # The first run parses YAML; the second reads the spec from the cache: no YAML parser.
    assert outs == ["['yaml']", "[]"]
    assert mscal.load_connector().batch.max_requests == 20
