from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.journal import Journal, JournalFull, Position


def test_records_survive_a_restart_until_confirmed(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    positions = [journal.append({"n": i}) for i in range(5)]
    journal.sync()
    journal.confirm(positions[1])
    journal.close()

    reopened = Journal(tmp_path)
    assert [r["n"] for _, r in reopened.pending()] == [2, 3, 4]
    reopened.append({"n": 5})
    assert [r["n"] for _, r in reopened.pending()] == [2, 3, 4, 5]


def test_torn_last_line_is_cut_and_appends_continue_cleanly(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append({"n": 1})
    journal.close()
    segment = next(tmp_path.glob("*.jsonl"))
    with segment.open("ab") as f:
        f.write(b'{"n": 2, "trunc')  # the process died mid-write
    reopened = Journal(tmp_path)
    reopened.append({"n": 3})
    assert [r["n"] for _, r in reopened.pending()] == [1, 3]


def test_segments_rotate_and_confirmed_ones_are_deleted(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=200)
    positions = [journal.append({"payload": "x" * 50, "n": i}) for i in range(20)]
    assert len(list(tmp_path.glob("*.jsonl"))) > 3
    journal.confirm(positions[15])
    remaining = [r["n"] for _, r in journal.pending()]
    assert remaining == [16, 17, 18, 19]
    assert min(int(p.stem) for p in tmp_path.glob("*.jsonl")) == positions[15].segment


def test_full_journal_refuses_instead_of_dropping(tmp_path: Path) -> None:
    journal = Journal(tmp_path, max_bytes=300)
    with pytest.raises(JournalFull):
        for i in range(100):
            journal.append({"n": i, "pad": "y" * 20})
    kept = [r["n"] for _, r in journal.pending()]
    assert kept == list(range(len(kept))) and kept


def test_confirm_never_moves_backwards(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    first = journal.append({"n": 1})
    second = journal.append({"n": 2})
    journal.confirm(second)
    journal.confirm(first)
    assert journal.checkpoint == second
    assert list(journal.pending()) == []
    assert Position(1, 0) < second


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2000), min_size=1, max_size=60), st.data())
def test_pending_is_always_everything_after_the_checkpoint(tmp_path_factory, sizes, data) -> None:
    directory = tmp_path_factory.mktemp("j")
    journal = Journal(directory, segment_bytes=1500)
    positions = [journal.append({"n": i, "pad": "z" * size}) for i, size in enumerate(sizes)]
    cut = data.draw(st.integers(min_value=-1, max_value=len(sizes) - 1))
    if cut >= 0:
        journal.confirm(positions[cut])
    journal.close()
    assert [r["n"] for _, r in Journal(directory, segment_bytes=1500).pending()] == list(range(cut + 1, len(sizes)))
