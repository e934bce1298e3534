"""Small valid WAV files for simulated recordings.

``uuid_record ... stop`` and the ``record`` application must leave a file the rest of
the product can play back and measure, as FreeSWITCH's mod_sndfile would: 16-bit PCM,
mono, 8000 Hz (the PCMU call rate), so ``record_samples`` and ``record_file_size``
agree with the file (capture e: 20000 samples -> 40044 bytes).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from pathlib import Path

RATE = 8000
HEADER_BYTES = 44

# One period of a faint 400 Hz tone (20 samples at 8 kHz), so the file is audible
# but a period repeats exactly.
_PERIOD = b"".join(
    struct.pack("<h", int(600 * math.sin(2 * math.pi * i / 20))) for i in range(20)
)


def wav_bytes(segments: Sequence[tuple[int, bool]], rate: int = RATE) -> bytes:
    """A RIFF/WAVE file of 16-bit mono samples: ``(count, silent)`` segments, a faint
    tone where not silent (a masked part of a recording is silence)."""
    chunks: list[bytes] = []
    for samples, silent in segments:
        size = max(0, samples) * 2
        if silent:
            chunks.append(bytes(size))
        else:
            reps, rest = divmod(size, len(_PERIOD))
            chunks.append(_PERIOD * reps + _PERIOD[:rest])
    data = b"".join(chunks)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(data), b"WAVE",
        b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16,
        b"data", len(data),
    )
    return header + data


def write_wav(path: str, segments: Sequence[tuple[int, bool]]) -> int:
    """Write the file (creating parent folders); returns its size in bytes.

    Raises:
        OSError: the path cannot be written (the caller reports it like FreeSWITCH
            reports an unwritable recording path).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = wav_bytes(segments)
    target.write_bytes(payload)
    return len(payload)


def duration(path: str) -> float | None:
    """Seconds of audio in a PCM WAV file, or ``None`` if it is not one."""
    try:
        with open(path, "rb") as f:
            header = f.read(HEADER_BYTES)
    except OSError:
        return None
    if len(header) < HEADER_BYTES or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return None
    channels, rate = struct.unpack("<HI", header[22:28])
    bits = struct.unpack("<H", header[34:36])[0]
    data_len = struct.unpack("<I", header[40:44])[0]
    frame = max(1, channels * bits // 8)
    return data_len / frame / rate if rate else None
