#!/usr/bin/python3
"""A generation back end that marks its output in-process.

A stand-in "model" synthesises music-like audio with numpy in 20 ms chunks (as
a streaming generator would); each chunk is marked with the provmark module as
it is produced; the result is written as a 16-bit WAV; then the file is read
back and checked with the detector API, as a platform would.

usage: generate_and_mark.py [--key FILE] [--model N] [--dataset N] [--seconds S] OUT.wav
Run from the source tree after `make` (or with provmark installed and
PROVMARK_LIBRARY / the library path pointing at libprovmark.so.1).
"""
import argparse
import os
import sys
import wave

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import provmark  # noqa: E402

RATE, CHANNELS, CHUNK = 48000, 2, 960  # 20 ms


class FakeModel:
    """Emits a chord progression with plucked envelopes and hi-hat noise, chunk by chunk."""

    CHORDS = [[220.0, 277.2, 329.6], [196.0, 246.9, 293.7], [174.6, 220.0, 261.6],
              [164.8, 207.7, 246.9]]

    def __init__(self, seed=1):
        self.n = 0
        self.phase = np.zeros(3)
        self.rng = np.random.default_rng(seed)

    def next_chunk(self, frames):
        idx = self.n + np.arange(frames)
        t = idx / RATE
        chord = np.array(self.CHORDS)[(idx // (RATE // 2)) % 4]         # (frames, 3)
        phase = self.phase + 2 * np.pi * np.cumsum(chord, axis=0) / RATE
        self.phase = phase[-1] % (2 * np.pi)
        tone = sum(np.sin(h * phase) / h ** 2 for h in range(1, 7)).sum(axis=1)
        beat = t % 0.5
        v = 0.08 * tone * np.exp(-3 * beat)
        v += 0.02 * self.rng.standard_normal(frames) * (1 + 4 * np.exp(-40 * (t % 0.25)))
        self.n += frames
        return np.stack([v, 0.9 * v], axis=1).astype(np.float32)


def write_wav(path, audio):
    pcm = np.clip(np.round(audio * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(audio.shape[1])
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def read_wav(path):
    with wave.open(path, "rb") as w:
        raw = w.readframes(w.getnframes())
        return (np.frombuffer(raw, dtype="<i2").reshape(-1, w.getnchannels()) / 32768.0,
                w.getframerate())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--key", help="key file (default: the public demo key)")
    ap.add_argument("--model", type=int, default=7)
    ap.add_argument("--dataset", type=int, default=42)
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    try:
        key = provmark.Key.load(args.key) if args.key else provmark.Key.demo()
        if key.is_demo:
            print("warning: public demo key (its marks prove nothing)", file=sys.stderr)
        emb = provmark.Embedder(RATE, CHANNELS, key, args.model, args.dataset)
    except provmark.ProvmarkError as e:
        sys.exit(f"generate_and_mark: {e}")

    model, parts = FakeModel(), []
    total = int(args.seconds * RATE)
    for start in range(0, total, CHUNK):
        chunk = model.next_chunk(min(CHUNK, total - start))
        parts.append(emb.process(chunk))      # marked as soon as it is generated
    level = emb.mark_level_db
    parts.append(emb.flush())
    marked = np.concatenate(parts)[emb.latency:]   # aligned with what the model produced
    write_wav(args.out, marked)
    print(f"generated and marked {args.seconds:.1f} s in {len(parts) - 1} chunks "
          f"(mark level {level:.1f} dB) -> {args.out}")

    audio, rate = read_wav(args.out)
    result = provmark.Detector(rate, audio.shape[1], [key]).detect(audio)
    if not result.found:
        print("detected: no mark")
        return 1
    print(f"detected: model {result.model_id}, dataset {result.dataset_id}, "
          f"p_false {result.p_false:.1e}, marked {result.segments[0].start:.1f}-"
          f"{result.segments[-1].end:.1f} s")
    return 0 if (result.model_id, result.dataset_id) == (args.model, args.dataset) else 1


if __name__ == "__main__":
    sys.exit(main())
