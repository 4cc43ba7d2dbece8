#!/usr/bin/python3
"""Splice suite of docs/BENCHMARKS.md: files built from 2-4 pieces of differently
marked copies of one track (near IDs, distant IDs, another key, unmarked music),
joined with 0, 0.5 and 5 s crossfades, plain and after MP3 128k, and a 60 s file
marked only from 20 to 35 s; and files that end with a short mark after unmarked music
(their start cut from the unmarked original, their end from copy A). Every copy keeps the
track's timing, so a piece is the same stretch of music, only marked otherwise.

usage: bench/splice.py CORPUS_DIR WORK_DIR
  SPLICE_TRACKS: how many tracks (default all); PM: the provmark to run;
  SPLICE_DUMP: a file to write every detection to (JSON), to compare two builds file by file;
  SPLICE_REGISTRY: a registry to detect with (its pairs' weak marks are recognised: pairs
  it lists that a file does not carry count as marks not in the file).
Prints the tables (Markdown) on stdout. Both keys are fixed (tests/data), so runs compare.
"""
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import wave

import numpy as np

PM = os.environ.get("PM", "build/bin/provmark")
KEYS = ["tests/data/test.key", "tests/data/second.key"]
TOL = 1.5  # seconds either side of a true boundary (plus half the crossfade)
# Copies: key index, model ID, dataset ID (None: the unmarked original).
COPIES = {"A": (0, 7, 42), "N": (0, 7, 43), "D": (0, 12345678, 9876543), "B": (1, 7, 42), "U": None}
# Cases: pieces as (copy, seconds); all 60 s.
CASES = {
    "near IDs (1 bit)": [("A", 30), ("N", 30)],
    "distant IDs": [("D", 20), ("A", 20), ("D", 20)],
    "two keys": [("A", 30), ("B", 30)],
    "unmarked piece": [("A", 15), ("U", 20), ("D", 25)],
    "four pieces": [("N", 10), ("A", 20), ("B", 10), ("D", 20)],
}
BED = [("U", 20), ("A", 15), ("U", 25)]  # marked only from 20 to 35 s
FADES = [0.0, 0.5, 5.0]
TAILS = [(5.0, 3.0), (10.4, 3.0), (10.4, 5.0), (20.7, 5.0), (10.4, 8.0)]  # unmarked to s, then A for s: the file's end


def run(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, **kw).stdout


def read_wav(path):
    with wave.open(path) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        return x.reshape(-1, w.getnchannels()), w.getframerate()


def write_wav(path, x, rate):
    y = np.clip(np.round(x), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(y.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(y.tobytes())


def splice(copies, pieces, fade, rate, path):
    """Sum of the copies, each weighted 1 inside its piece, with linear ramps of `fade` s centred on the joins."""
    n = min(len(c) for c in copies.values())
    t = np.arange(n) / rate
    out = np.zeros((n, next(iter(copies.values())).shape[1]))
    start = 0.0
    for i, (name, dur) in enumerate(pieces):
        end = start + dur
        w = np.ones(n)
        if fade > 0:
            if i > 0:
                w = np.minimum(w, np.clip((t - (start - fade / 2)) / fade, 0, 1))
            if i + 1 < len(pieces):
                w = np.minimum(w, np.clip(((end + fade / 2) - t) / fade, 0, 1))
        else:
            w = ((t >= start) | (i == 0)) & ((t < end) | (i + 1 == len(pieces)))
        out += copies[name][:n] * w[:, None]
        start = end
    write_wav(path, out, rate)


def detect(path, keys):
    args = [PM, "detect", "--json"]
    for k in keys:
        args += ["--key", k]
    if os.environ.get("SPLICE_REGISTRY"):
        args += ["--registry", os.environ["SPLICE_REGISTRY"]]
    p = subprocess.run(args + [path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if p.returncode not in (0, 1):  # 1: no mark found
        raise RuntimeError(f"provmark detect failed on {path}")
    return json.loads(p.stdout)


def score(result, pieces, fade, labels):
    """Per file: pieces found, boundary errors, seconds given to a wrong mark, marks not in the file."""
    marks = [((m["key"], m["model_id"], m["dataset_id"]), m["segments"]) for m in result.get("marks", [])]
    truth = []
    t = 0.0
    for name, dur in pieces:
        truth.append((labels.get(name), t, t + dur))
        t += dur
    present = {lab for lab, _, _ in truth if lab}
    false_marks = sum(1 for lab, _ in marks if lab not in present)
    segs = {lab: s for lab, s in marks}
    found = total = 0
    errors = []
    for i, (lab, a, b) in enumerate(truth):
        if not lab or b - a < 10:
            continue
        total += 1
        mine = segs.get(lab, [])
        cover = sum(max(0.0, min(b, s["end"]) - max(a, s["start"])) for s in mine)
        if cover < 0.5 * (b - a):
            continue
        found += 1
        if i > 0:  # its start is a join
            errors.append(min(abs(s["start"] - a) for s in mine))
        if i + 1 < len(truth):
            errors.append(min(abs(s["end"] - b) for s in mine))
    joins = [b for _, _, b in truth[:-1]]
    wrong = 0.0
    for lab, ss in marks:
        for s in ss:
            for plab, a, b in truth:
                if plab == lab:
                    continue
                lo, hi = max(a, s["start"]), min(b, s["end"])
                # not counted: within the tolerance of a join (and the crossfade)
                for j in joins:
                    if lo < hi:
                        zlo, zhi = j - TOL - fade / 2, j + TOL + fade / 2
                        if zlo <= lo and hi <= zhi:
                            lo = hi
                        elif zlo <= lo < zhi:
                            lo = zhi
                        elif zlo < hi <= zhi:
                            hi = zlo
                wrong += max(0.0, hi - lo)
    return found, total, errors, wrong, false_marks


def score_tail(result, start, label):
    """A file ending with a short mark of `label` from `start`: found, start error, seconds of
    the unmarked music before it given to any mark (beyond TOL), marks not in the file."""
    marks = [((m["key"], m["model_id"], m["dataset_id"]), m["segments"]) for m in result.get("marks", [])]
    segs = [s for lab, ss in marks if lab == label for s in ss]
    err = min((abs(s["start"] - start) for s in segs), default=None)
    wrong = sum(max(0.0, min(start - TOL, s["end"]) - s["start"]) for _, ss in marks for s in ss)
    return err, wrong, sum(1 for lab, _ in marks if lab != label)


def main():
    corpus, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    keys = KEYS
    tracks = sorted(f for f in os.listdir(corpus) if f.endswith(".wav"))
    tracks = tracks[: int(os.environ.get("SPLICE_TRACKS", len(tracks)))]
    jobs, results, tail_results = [], [], []
    labels = None
    pool = concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1)
    for tr in tracks:  # one track at a time, its files removed once detected
        base = os.path.join(work, tr[:-4])
        src = os.path.join(corpus, tr)
        copies = {}
        for name, spec in COPIES.items():
            if spec is None:
                copies[name], rate = read_wav(src)
                continue
            k, m, d = spec
            p = f"{base}.{name}.wav"
            run([PM, "embed", src, p, "--model", str(m), "--dataset", str(d), "--key", keys[k], "--no-verify"])
            copies[name], rate = read_wav(p)
        if labels is None:  # a mark's name: key fingerprint, model ID, dataset ID
            labels = {}
            for name, spec in COPIES.items():
                if spec:
                    r = detect(f"{base}.{name}.wav", keys)
                    labels[name] = (r["key"], spec[1], spec[2])
        mine = []
        for case, pieces in list(CASES.items()) + [("marked 20-35 s only", BED)]:
            for fade in FADES if pieces is not BED else [0.0]:
                p = f"{base}.{len(jobs) + len(mine)}.wav"
                splice(copies, pieces, fade, rate, p)
                mine.append((case, fade, "plain", p, pieces))
                mp3 = p[:-4] + ".mp3.wav"
                run(["bench/attack.sh", "mp3_128k", p, mp3])
                mine.append((case, fade, "MP3 128k", mp3, pieces))
        results += list(pool.map(lambda j: detect(j[3], keys), mine))
        jobs += mine
        for j in mine:
            os.remove(j[3])
        tails = []
        for start, dur in TAILS:
            a, b = int(round(start * rate)), int(round((start + dur) * rate))
            p = f"{base}.tail{start:g}_{dur:g}.wav"
            write_wav(p, np.concatenate([copies["U"][:a], copies["A"][a:b]]), rate)
            tails.append((start, dur, p))
        for (start, dur, p), r in zip(tails, pool.map(lambda j: detect(j[2], keys), tails)):
            tail_results.append((start, dur, score_tail(r, start, labels["A"])))
            os.remove(p)
        for name, spec in COPIES.items():
            if spec:
                os.remove(f"{base}.{name}.wav")
    pool.shutdown()
    if os.environ.get("SPLICE_DUMP"):
        dump = []
        for (case, fade, audio, path, pieces), r in zip(jobs, results):
            found, total, errors, wrong, false_marks = score(r, pieces, fade, labels)
            dump.append({"file": os.path.basename(path), "case": case, "fade": fade, "audio": audio,
                         "found": found, "total": total, "worst_error": max(errors, default=0.0),
                         "wrong_s": wrong, "false_marks": false_marks, "marks": r.get("marks", [])})
        with open(os.environ["SPLICE_DUMP"], "w") as f:
            json.dump(dump, f, indent=1)
    rows = {}
    for (case, fade, audio, _, pieces), r in zip(jobs, results):
        s = score(r, pieces, fade, labels)
        for key in {(audio, f"{fade:g} s" if pieces is not BED else case), (audio, case)}:
            acc = rows.setdefault(key, [0, 0, [], 0.0, 0, 0])
            acc[0] += s[0]
            acc[1] += s[1]
            acc[2] += s[2]
            acc[3] += s[3]
            acc[4] += s[4]
            acc[5] += 1

    def table(title, names):
        print(f"| audio | {title} | files | pieces found with their IDs | boundary error median / worst (s) "
              "| s given to a wrong mark | marks not in the file |")
        print("|---|---|---|---|---|---|---|")
        for audio in ["plain", "MP3 128k"]:
            for n in names:
                f, t, e, w, fm, files = rows[(audio, n)]
                err = f"{statistics.median(e):.2f} / {max(e):.2f}" if e else "-"
                print(f"| {audio} | {n} | {files} | {f}/{t} ({100.0 * f / t:.0f} %) | {err} | {w:.1f} | {fm} |")

    table("crossfade", [f"{f:g} s" for f in FADES] + ["marked 20-35 s only"])
    print()
    table("pieces", list(CASES))
    print()
    print("| a mark that ends the file (plain) | files | mark found | start error median / worst (s) "
          "| s of the unmarked music before it given to a mark | marks not in the file |")
    print("|---|---|---|---|---|---|")
    for start, dur in TAILS:
        got = [s for a, d, s in tail_results if (a, d) == (start, dur)]
        errs = [e for e, _, _ in got if e is not None]
        err = f"{statistics.median(errs):.2f} / {max(errs):.2f}" if errs else "-"
        print(f"| {dur:g} s from {start:g} s | {len(got)} | {len(errs)} | {err} | "
              f"{sum(w for _, w, _ in got):.1f} | {sum(f for _, _, f in got)} |")


if __name__ == "__main__":
    main()
