#!/usr/bin/python3
"""The Python binding's cost, measured like bench/api.c (same chunks, same buffer).

usage: api.py FILE.wav   (16-bit WAV; prints "name median p99 runs [extra_us extra_%]":
embed / embed_inplace in microseconds per 20 ms chunk via Embedder.process(chunk) and
Embedder.process(chunk, out=chunk), with what the binding adds to the bare C call in
microseconds and relative to it; detect in milliseconds for a 10 s buffer via
Detector(...).detect)
"""
import os
import sys
import time
import wave

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import provmark  # noqa: E402


def main():
    with wave.open(sys.argv[1], "rb") as w:
        rate, ch = w.getframerate(), w.getnchannels()
        x = (np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, ch)
             / 32768.0).astype(np.float32)
    key = provmark.Key.demo()
    chunk = rate // 50
    per_pass = len(x) // chunk
    chunks = [x[i * chunk:(i + 1) * chunk] for i in range(per_pass)]
    # The binding's Embedder.process, and the bare ctypes call on a twin embedder, in
    # alternation so that both see the same machine state (its speed drifts by 2x from
    # minute to minute here): their paired difference, plus one ctypes call, is what the
    # binding adds, taken relative to the bare call's cost.
    emb = provmark.Embedder(rate, ch, key, 7, 42)
    inplace = provmark.Embedder(rate, ch, key, 7, 42)
    twin = provmark.Embedder(rate, ch, key, 7, 42)
    raw = provmark._emb_process
    work = [c.copy() for c in chunks]
    outs_bare = [np.empty_like(c) for c in chunks]
    times = {"embed": [], "embed_inplace": [], "bare": []}
    for _ in range(5):
        outs = []
        for i, (c, w, o) in enumerate(zip(chunks, work, outs_bare)):
            pi, po = c.ctypes.data, o.ctypes.data
            w[:] = c
            runs = [("embed", lambda: outs.append(emb.process(c))),
                    ("embed_inplace", lambda: inplace.process(w, out=w)),
                    ("bare", lambda: raw(twin._h, pi, po, len(c)))]
            for k in range(3):  # rotated, so that no variant always goes first
                name, fn = runs[(i + k) % 3]
                t0 = time.perf_counter_ns()
                fn()
                times[name].append((time.perf_counter_ns() - t0) / 1e3)
    calls = []
    lat = provmark._emb_latency
    for _ in range(20000):
        t0 = time.perf_counter_ns()
        lat(twin._h)
        calls.append((time.perf_counter_ns() - t0) / 1e3)
    bare = np.array(times["bare"])
    for name in ("embed", "embed_inplace"):
        v = np.array(times[name])
        t = np.sort(v)
        extra = np.median(v - bare) + np.median(calls)
        print(f"{name} {np.median(t):.2f} {t[int(0.99 * (len(t) - 1))]:.2f} {len(t)} "
              f"{extra:.2f} {100 * extra / np.median(bare):.1f}")
    y = np.concatenate(outs)
    ten = min(10 * rate, len(y))
    times = []
    for r in range(20):
        start = r * 4800 % (len(y) - ten + 1)
        t0 = time.perf_counter_ns()
        res = provmark.Detector(rate, ch, [key]).detect(y[start:start + ten])
        times.append((time.perf_counter_ns() - t0) / 1e6)
        if not res.found:
            sys.exit("api.py: the marked 10 s buffer was not detected")
    t = np.sort(np.array(times))
    print(f"detect {np.median(t):.2f} {t[int(0.99 * (len(t) - 1))]:.2f} {len(t)}")


if __name__ == "__main__":
    main()
