"""command_queue.run_chains: chains of child processes, several at once, in dependency order
(what `retrain --jobs N` runs shipped models' commands with)."""

import sys
import threading
import time

import pytest

from playground.tools.command_queue import Chain, run_chains


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def note(path, text: str) -> list[str]:
    """A command that appends `text` to the file at `path`."""
    return py(f"open({str(path)!r}, 'a').write({text + chr(10)!r})")


def test_longest_ready_chain_first_dependencies_wait_and_a_failure_stops_only_its_own(tmp_path):
    order = tmp_path / "order.txt"
    chains = [Chain("short", [note(order, "short")], weight=1),
              Chain("long", [note(order, "long-1"), note(order, "long-2")], weight=5),
              Chain("needs-short", [note(order, "needs-short")], after=("short",), weight=9),
              Chain("broken", [py("print('boom'); raise SystemExit(3)"), note(order, "never")], weight=0),
              Chain("needs-broken", [note(order, "never either")], after=("broken",), weight=0),
              Chain("needs-elsewhere", [note(order, "elsewhere")], after=("not-in-this-run",))]
    said = []
    status = run_chains(chains, 1, tmp_path / "logs", say=said.append)
    # one at a time: heaviest ready first; "needs-short" (heaviest) waits until "short" is done
    assert order.read_text().split() == ["long-1", "long-2", "short", "needs-short", "elsewhere"]
    assert status["long"] == status["short"] == status["needs-short"] == status["needs-elsewhere"] == "ok"
    assert status["broken"].startswith("failed (exit 3): ") and "boom" in (tmp_path / "logs" / "broken.log").read_text()
    assert status["needs-broken"] == "skipped: broken failed (exit 3)"
    assert any(s.startswith("broken: failed") for s in said)
    assert "$ " in (tmp_path / "logs" / "long.log").read_text()           # each command is logged before it runs


def test_chains_run_side_by_side(tmp_path):
    """Each command waits (up to 30 s) for the other's marker: both succeed only if they overlap."""
    def meet(me, other):
        return py(f"import pathlib, time\npathlib.Path({str(tmp_path / me)!r}).touch()\n"
                  f"t = time.time()\nwhile not pathlib.Path({str(tmp_path / other)!r}).exists():\n"
                  f"    time.sleep(0.05)\n    if time.time() - t > 30: raise SystemExit(1)")
    status = run_chains([Chain("a", [meet("a", "b")]), Chain("b", [meet("b", "a")])], 2, tmp_path / "logs")
    assert status == {"a": "ok", "b": "ok"}


def test_stop_forwards_one_sigterm_runs_nothing_more_and_reports_stopped(tmp_path):
    """Like a training run: the first SIGTERM saves (here: writes 'saved'), a second would quit at
    once, so the queue must send exactly one; the chain's next command and the waiting chain never run."""
    ready, saved = tmp_path / "ready", tmp_path / "saved"
    child = py("import pathlib, signal, time\n"
               f"def on_term(*_):\n    open({str(saved)!r}, 'a').write('saved\\n'); time.sleep(1.0); raise SystemExit(0)\n"
               "signal.signal(signal.SIGTERM, on_term)\n"
               f"pathlib.Path({str(ready)!r}).touch()\n"
               "time.sleep(60)")
    stop = threading.Event()
    result = {}
    chains = [Chain("running", [child, note(tmp_path / "next", "next")], weight=1),
              Chain("waiting", [note(tmp_path / "next", "waiting")])]
    worker = threading.Thread(target=lambda: result.update(run_chains(chains, 1, tmp_path / "logs", stop)))
    worker.start()
    t = time.monotonic()
    while not ready.exists() and time.monotonic() - t < 60:
        time.sleep(0.05)
    stop.set()
    worker.join(60)
    assert not worker.is_alive()
    assert result == {"running": "stopped", "waiting": "stopped"}
    assert saved.read_text() == "saved\n"                               # one SIGTERM, handled once
    assert not (tmp_path / "next").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        run_chains([], 0, tmp_path)
    with pytest.raises(ValueError, match="unique"):
        run_chains([Chain("a", []), Chain("a", [])], 1, tmp_path)
    with pytest.raises(ValueError, match="needs a command"):
        run_chains([Chain("a", [])], 1, tmp_path)


def test_chains_that_wait_on_each_other_are_skipped_not_waited_for_forever(tmp_path):
    status = run_chains([Chain("a", [note(tmp_path / "x", "a")], after=("b",)),
                         Chain("b", [note(tmp_path / "x", "b")], after=("a",)),
                         Chain("c", [note(tmp_path / "x", "c")])], 1, tmp_path / "logs")
    assert status == {"c": "ok", "a": "skipped: waits on b in a cycle", "b": "skipped: waits on a in a cycle"}
    assert (tmp_path / "x").read_text() == "c\n"
