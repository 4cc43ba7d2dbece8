"""Craft fingerprint indexes (docs/FPINDEX.md) for the hostile-input tests.

pmfp_craft.py MANIFEST KIND [ARGS]: rewrite MANIFEST's index as KIND and make the
manifest name it (checksum, sha256, bytes, landmarks), as anyone can: the checksum
is no defence. KIND: wrap (an item's path_off + path_len wraps around 2^64), late
(an entry frame of 2^31), common HASH_SOURCE N [triplet] (N entries, spread over the
first item, sharing the pair hash, or with `triplet` the triplet hash, most common in
HASH_SOURCE's index: the hostile index of one hash), long (every item
claims the longest duration an index may state, 2^30 frames, its landmarks unchanged),
short (every item claims 0 s, its landmarks unchanged), version N (the header's
format version).
"""
import hashlib, json, os, struct, sys
from collections import Counter

HEADER = struct.Struct("<8sIIQQQQQQd32s")


def read(path):
    data = open(path, "rb").read()
    h = list(HEADER.unpack_from(data))
    return data, h


def write(manifest, m, ipath, body_after_header, h):
    h[8] = HEADER.size + len(body_after_header)  # file_size
    h[10] = hashlib.blake2b(body_after_header, digest_size=32).digest()
    data = HEADER.pack(*h) + body_after_header
    open(ipath, "wb").write(data)
    fp = m["fingerprints"]
    fp.update(checksum=h[10].hex(), sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), landmarks=h[3])
    json.dump(m, open(manifest, "w"), indent=2)


def main():
    manifest, kind = sys.argv[1], sys.argv[2]
    m = json.load(open(manifest))
    ipath = os.path.join(os.path.dirname(manifest), m["fingerprints"]["index"])
    data, h = read(ipath)
    body = bytearray(data[HEADER.size:])
    items_at = h[4] - HEADER.size
    entries_at = h[7] - HEADER.size
    if kind == "wrap":
        _, length = struct.unpack_from("<QI", body, items_at)  # the first path's NUL is at path_off + length
        struct.pack_into("<QI", body, items_at, 2**64 - 1, length + 1)  # path_off, path_len
    elif kind == "late":
        struct.pack_into("<I", body, len(body) - 4, 2**31 + 5)  # the last entry's t
    elif kind in ("long", "short"):
        seconds = 2**30 * h[9] if kind == "long" else 0.0
        for i in range(h[2]):
            struct.pack_into("<d", body, items_at + 24 * i + 16, seconds)
    elif kind == "version":
        h[1] = int(sys.argv[3])
    elif kind == "common":
        src, n = sys.argv[3], int(sys.argv[4])
        kind_arg = sys.argv[5] if len(sys.argv) > 5 else "pair"
        sdata, sh = read(src)
        hashes = Counter(struct.unpack_from("<I", sdata, sh[7] + 12 * i)[0] for i in range(sh[3]))
        common = max(hashes, key=lambda x: (x >> 31 == int(kind_arg == "triplet"), hashes[x]))
        frames = int(struct.unpack_from("<d", body, items_at + 16)[0] / h[9])  # the item's, so that every frame is in it
        entries = b"".join(struct.pack("<III", common, 0, t * frames // n) for t in range(n))
        body = bytes(body[:entries_at]) + entries
        h[3] = n
    write(manifest, m, ipath, bytes(body), h)


main()
