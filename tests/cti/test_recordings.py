"""Call recordings end to end (simulated switch, real services, real PostgreSQL): a
queue that always records starts at the bridge, the agent pauses and resumes, and on
RECORD_STOP the file exists and is indexed; the agent-choice and never policies; the
retention job.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from cti.recordings import RecordingError, delete_older_than
from esl.simulator import CallerBehaviour
from tests.routing.engine_site import interaction_of, module_stack

pytestmark = pytest.mark.slow


site = module_stack("recordings")


def _row(site, iid):
    return site.wait_for(lambda: site.db.fetchone("SELECT * FROM recordings WHERE interaction_id = %s AND "
                                                  "size_bytes IS NOT NULL", (iid,)), what="the recording row")


def test_an_always_queue_records_the_call_and_indexes_the_file(site) -> None:
    recordings = site.services.routing.recordings
    agent = site.login("1009")
    leg = site.switch.place_inbound_call(did="5551008", caller_number="+15550051",
                                         behaviour=CallerBehaviour(talk_time=20))
    iid = interaction_of(site, leg)
    started = site.wait_event("call.recording_started", interaction_id=iid)
    path = started.data["path"]
    day = time.strftime("%Y/%m/%d", time.gmtime())
    assert path == str(site.settings.recordings_dir / day / f"{iid}_1.wav")

    recordings.pause(iid)
    with pytest.raises(RecordingError, match="already paused"):
        recordings.pause(iid)
    time.sleep(0.2)
    recordings.resume(iid)
    site.switch.hangup(leg)

    row = _row(site, iid)
    assert row["path"] == path and os.path.isfile(path) and os.path.getsize(path) == row["size_bytes"]
    assert row["agent_id"] == agent and row["queue_name"] == "recorded" and row["caller_number"] == "+15550051"
    assert row["duration_ms"] > 0 and row["paused_ms"] >= 1000  # 0.2 s real at speed 10
    assert str(row["id"]) == started.data["recording_id"]


def test_agent_choice_records_only_when_asked_and_never_refuses(site) -> None:
    recordings = site.services.routing.recordings
    site.login("1012")
    leg = site.switch.place_inbound_call(did="5551010", caller_number="+15550052",
                                         behaviour=CallerBehaviour(talk_time=30))
    iid = interaction_of(site, leg)
    site.wait_event("call.answered", interaction_id=iid)
    assert recordings.active(iid) is None
    with pytest.raises(RecordingError, match="not being recorded"):
        recordings.stop(iid)

    path = recordings.start(iid)
    with pytest.raises(RecordingError, match="already being recorded"):
        recordings.start(iid)
    site.wait_event("call.recording_started", interaction_id=iid)
    recordings.stop(iid)
    row = _row(site, iid)
    assert row["path"] == path and row["paused_ms"] == 0
    site.switch.hangup(leg)

    site.login("1010")
    never = site.switch.place_inbound_call(did="5551000", caller_number="+15550053",
                                           behaviour=CallerBehaviour(prompt_digits=("2",), talk_time=30))
    other = interaction_of(site, never)
    site.wait_event("call.answered", interaction_id=other, timeout=15)
    with pytest.raises(RecordingError, match="policy is 'never'"):
        recordings.start(other)
    site.switch.hangup(never)
    with pytest.raises(RecordingError, match="not live"):
        recordings.start(str(uuid.uuid4()))


def test_retention_deletes_old_files_and_marks_their_rows(db, tmp_path: Path) -> None:
    old_file, new_file = tmp_path / "old.wav", tmp_path / "new.wav"
    old_file.write_bytes(b"RIFF")
    new_file.write_bytes(b"RIFF")
    old_id, new_id, gone_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    for rid, path, age_days in ((old_id, old_file, 40), (new_id, new_file, 5), (gone_id, tmp_path / "x.wav", 90)):
        db.execute(
            """INSERT INTO recordings (id, interaction_id, path, started_at)
               VALUES (%s, %s, %s, now() - make_interval(days => %s))""",
            (rid, str(uuid.uuid4()), str(path), age_days),
        )
    assert delete_older_than(db, 30) == 2
    assert not old_file.exists() and new_file.exists()
    rows = {str(r["id"]): r["deleted_at"] for r in db.fetchall(
        "SELECT id, deleted_at FROM recordings WHERE id = ANY(%s::uuid[])", ([old_id, new_id, gone_id],))}
    assert rows[old_id] is not None and rows[gone_id] is not None and rows[new_id] is None
    assert delete_older_than(db, 30) == 0
    with pytest.raises(RecordingError, match="at least 1"):
        delete_older_than(db, 0)
