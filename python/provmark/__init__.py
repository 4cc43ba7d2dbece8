"""provmark: mark generated audio with a model ID and a dataset ID, in-process.

A thin ctypes binding of libprovmark (the C library of this project).

Audio: anything numpy can view as an array (numpy arrays, objects with
__array__ such as a CPU torch tensor's .numpy(), the buffer protocol), float
samples in [-1, 1] (float32 is used as is, float64 converted) or signed integer
PCM (int16, int32: scaled by the type's full scale, e.g. 1/32768). Layout:
(frames, channels) by default, (channels, frames) with channels_first=True;
(frames,) for mono. Rates are in Hz, times in seconds. Errors raise
ProvmarkError carrying the library's message; bad arguments TypeError or
ValueError before they reach the library.

    import numpy as np, provmark
    key = provmark.Key.load("model.key")
    emb = provmark.Embedder(48000, 2, key, model_id=7, dataset_id=42)
    for chunk in generator():            # any chunk length, e.g. 20 ms
        sink(emb.process(chunk))         # output lags input by emb.latency frames
    sink(emb.flush())                    # the last emb.latency frames

    det = provmark.Detector(48000, 2, [key])
    det.push(audio)
    result = det.finish()                # result.found, result.model_id, ...
    for mark in result.marks:            # every mark in the file, strongest first
        print(mark.model_id, mark.dataset_id, mark.segments)

    # generation code: a (batch, channels, frames) float32 array
    emb = provmark.Embedder(32000, 2, key, 7, 42, channels_first=True)
    marked = emb.mark_batch(batch)                       # same shape, float32
    results = provmark.Detector(32000, 2, [key], channels_first=True).detect_batch(marked)

The shared library libprovmark.so.1 is looked up, in this order, in
$PROVMARK_LIBRARY; next to this file (the copy that `pip install` bundles when
it builds from a source tree after `make`); at the path `make install` recorded
in provmark/_library.py; in the source tree's build/lib (only when this file is
in a source tree); then on the system's library path (a Debian package or
`make install` into /usr/local). provmark.library_path says which one it loaded.

License: MIT (LICENSE at the top of the source tree), as the library and the plugin.
"""
import ctypes
import ctypes.util
import os

import numpy as np

__all__ = ["ProvmarkError", "Key", "Embedder", "Detector", "Result", "Mark", "Segment",
           "version", "library_path", "ID_MAX", "MAX_KEYS", "MAX_EXPECTED", "MAX_CHANNELS", "STRENGTH_MIN", "STRENGTH_MAX",
           "STRENGTH_DEFAULT", "FORMAT_DEFAULT"]

__license__ = "MIT"
_SONAME = "libprovmark.so.1"


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.environ.get("PROVMARK_LIBRARY")
    bundled = os.path.join(here, _SONAME)
    if os.path.exists(bundled):
        yield bundled
    try:
        from . import _library  # written by `make install`: where it put the library
        yield _library.PATH
    except ImportError:
        pass
    tree = os.path.normpath(os.path.join(here, "..", ".."))
    if os.path.exists(os.path.join(tree, "include", "provmark.h")):
        yield os.path.join(tree, "build", "lib", _SONAME)
    yield _SONAME
    yield ctypes.util.find_library("provmark")


def _load():
    errors = []
    for path in _candidates():
        if not path:
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(str(e))
    raise ImportError("provmark: cannot load libprovmark (set PROVMARK_LIBRARY): "
                      + "; ".join(errors))


_lib, library_path = _load()


def _symbol(name):
    """A function of the library; an older library than this binding lacks some: say so."""
    try:
        return getattr(_lib, name)
    except AttributeError:
        try:
            version = getattr(_lib, "pm_version_string")
            version.restype = ctypes.c_char_p
            have = version().decode()
        except (AttributeError, UnicodeDecodeError):
            have = "unknown"
        raise ImportError(f"provmark: {library_path} (version {have}) has no {name}: "
                          "this binding needs a newer libprovmark") from None


def _limit(name, restype):
    fn = _symbol(name)
    fn.restype = restype
    fn.argtypes = []
    return fn()


# The limits come from the library (include/provmark.h defines each once).
ID_MAX = _limit("pm_id_max", ctypes.c_uint32)
MAX_KEYS = _limit("pm_max_keys", ctypes.c_int)
MAX_EXPECTED = _limit("pm_max_expected", ctypes.c_int)
MAX_CHANNELS = _limit("pm_max_channels", ctypes.c_int)
STRENGTH_MIN = _limit("pm_strength_min", ctypes.c_float)
STRENGTH_MAX = _limit("pm_strength_max", ctypes.c_float)
STRENGTH_DEFAULT = _limit("pm_strength_default", ctypes.c_float)
FORMAT_DEFAULT = _limit("pm_format_default", ctypes.c_int)
_MAX_SEGMENTS = _limit("pm_max_segments", ctypes.c_int)


class _Key(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_uint8 * 32)]


class _Segment(ctypes.Structure):
    _fields_ = [("start", ctypes.c_double), ("end", ctypes.c_double),
                ("score", ctypes.c_double)]


class _Result(ctypes.Structure):
    _fields_ = [("found", ctypes.c_int), ("key_index", ctypes.c_int),
                ("model_id", ctypes.c_uint32), ("dataset_id", ctypes.c_uint32),
                ("p_false", ctypes.c_double), ("sync_z", ctypes.c_double),
                ("speed", ctypes.c_double), ("tempo", ctypes.c_double),
                ("attempts", ctypes.c_int), ("n_segments", ctypes.c_int),
                ("segments", _Segment * _MAX_SEGMENTS)]


# This copy of struct pm_result must be the library's: refuse to load otherwise.
if ctypes.sizeof(_Result) != _limit("pm_result_size", ctypes.c_size_t):
    raise ImportError("provmark: this binding does not match the loaded libprovmark "
                      "(struct pm_result differs)")


class _Mark(ctypes.Structure):
    _fields_ = [("key_index", ctypes.c_int),
                ("model_id", ctypes.c_uint32), ("dataset_id", ctypes.c_uint32),
                ("p_false", ctypes.c_double), ("sync_z", ctypes.c_double),
                ("speed", ctypes.c_double), ("tempo", ctypes.c_double),
                ("n_segments", ctypes.c_int), ("segments", _Segment * _MAX_SEGMENTS)]


if ctypes.sizeof(_Mark) != _limit("pm_mark_size", ctypes.c_size_t):
    raise ImportError("provmark: this binding does not match the loaded libprovmark "
                      "(struct pm_mark differs)")


_vp = ctypes.c_void_p


def _sig(name, restype, *argtypes):
    fn = _symbol(name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_strerror = _sig("pm_strerror", ctypes.c_char_p, ctypes.c_int)
_version = _sig("pm_version_string", ctypes.c_char_p)
_key_generate = _sig("pm_key_generate", ctypes.c_int, ctypes.POINTER(_Key))
_key_demo = _sig("pm_key_demo", None, ctypes.POINTER(_Key))
_key_is_demo = _sig("pm_key_is_demo", ctypes.c_int, ctypes.POINTER(_Key))
_key_load = _sig("pm_key_load", ctypes.c_int, ctypes.POINTER(_Key), ctypes.c_char_p)
_key_save = _sig("pm_key_save", ctypes.c_int, ctypes.POINTER(_Key), ctypes.c_char_p)
_key_fp = _sig("pm_key_fingerprint", None, ctypes.POINTER(_Key), ctypes.c_char * 17)
_emb_new = _sig("pm_embedder_new", ctypes.c_int, ctypes.POINTER(_vp), ctypes.c_double,
                ctypes.c_int, ctypes.POINTER(_Key), ctypes.c_uint32, ctypes.c_uint32,
                ctypes.c_float)
_emb_free = _sig("pm_embedder_free", None, _vp)
_emb_ids = _sig("pm_embedder_set_ids", ctypes.c_int, _vp, ctypes.c_uint32, ctypes.c_uint32)
_emb_strength = _sig("pm_embedder_set_strength", ctypes.c_int, _vp, ctypes.c_float)
_emb_format = _sig("pm_embedder_set_format", ctypes.c_int, _vp, ctypes.c_int)
# Sample buffers are passed as bare addresses: building a typed pointer per call
# (ndarray.ctypes.data_as) would cost a sixth of marking a 20 ms chunk.
_emb_process = _sig("pm_embedder_process_interleaved", ctypes.c_int, _vp, _vp, _vp,
                    ctypes.c_size_t)
_emb_flush = _sig("pm_embedder_flush_interleaved", ctypes.c_int, _vp, _vp)
_emb_latency = _sig("pm_embedder_latency", ctypes.c_size_t, _vp)
_emb_reset = _sig("pm_embedder_reset", None, _vp)
_emb_level = _sig("pm_embedder_mark_level_db", ctypes.c_double, _vp)
_det_new = _sig("pm_detector_new", ctypes.c_int, ctypes.POINTER(_vp), ctypes.c_double,
                ctypes.c_int, ctypes.POINTER(_Key), ctypes.c_int)
_det_free = _sig("pm_detector_free", None, _vp)
_det_push = _sig("pm_detector_push_interleaved", ctypes.c_int, _vp, _vp, ctypes.c_size_t)
_det_finish = _sig("pm_detector_finish", ctypes.c_int, _vp, ctypes.POINTER(_Result))
_det_reset = _sig("pm_detector_reset", None, _vp)
_det_mark_count = _sig("pm_detector_mark_count", ctypes.c_int, _vp)
_det_mark = _sig("pm_detector_mark", ctypes.c_int, _vp, ctypes.c_int, ctypes.POINTER(_Mark))
_det_expect = _sig("pm_detector_expect", ctypes.c_int, _vp, ctypes.c_int, ctypes.c_uint32, ctypes.c_uint32)
_det_recognised = _sig("pm_detector_mark_recognised", ctypes.c_int, _vp, ctypes.c_int)
_det_formats = _sig("pm_detector_mark_formats", ctypes.c_int, _vp, ctypes.c_int)


class ProvmarkError(Exception):
    """A libprovmark call failed. str(e) is the library's message (with what it was
    about, e.g. the key file's path); e.status is its pm_status code (an int < 0)."""

    def __init__(self, status, context=None, detail=None):
        """status: a pm_status (int < 0); context: what it was about (str), or None;
        detail: a more precise message than the library's for this status (str), or None."""
        self.status = status
        msg = detail or _strerror(status).decode()
        super().__init__(f"{context}: {msg}" if context is not None else msg)


def _check(status, context=None):
    if status < 0:
        raise ProvmarkError(status, context)


def version():
    """The loaded library's version string, e.g. '1.2.0' (str)."""
    return _version().decode()


def _key_trouble(path):
    """Which of missing, unreadable or malformed a key file that failed to load is,
    with what to do (the library's status says only that it is one of them)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return "key file missing (no such file); make a key with Key.generate().save(path)"
    except PermissionError:
        return "key file unreadable (permission denied: run as the key's owner, or check its mode)"
    except OSError as e:
        return f"key file unreadable ({e.strerror})"
    os.close(fd)
    if not os.path.isfile(path):
        return "key file unreadable (not a regular file)"
    return "malformed key file (not one written by `provmark keygen` or Key.save)"


class Key:
    """A 256-bit secret key (32 bytes). Make one with Key.load(path),
    Key.generate() or Key.demo(); Key(raw) takes 32 raw bytes."""

    def __init__(self, raw=None):
        """raw: None (an all-zero key, to be filled by a class method) or exactly
        32 bytes (bytes-like); ValueError for any other length."""
        self._k = _Key()
        if raw is not None:
            raw = bytes(raw)
            if len(raw) != 32:
                raise ValueError("a provmark key is 32 bytes")
            ctypes.memmove(self._k.bytes, raw, 32)

    @classmethod
    def generate(cls):
        """A new random key from the system's CSPRNG (libsodium)."""
        k = cls()
        _check(_key_generate(ctypes.byref(k._k)))
        return k

    @classmethod
    def demo(cls):
        """The documented public demo key: its marks prove nothing."""
        k = cls()
        _key_demo(ctypes.byref(k._k))
        return k

    @classmethod
    def load(cls, path):
        """Read a key file (str or path-like) written by `provmark keygen` or save();
        ProvmarkError naming the path if it is missing, unreadable or malformed."""
        k = cls()
        status = _key_load(ctypes.byref(k._k), os.fsencode(path))
        if status < 0:
            raise ProvmarkError(status, os.fspath(path), _key_trouble(path))
        return k

    def save(self, path):
        """Write a new key file (str or path-like) with mode 0600; refuses to overwrite."""
        _check(_key_save(ctypes.byref(self._k), os.fsencode(path)), os.fspath(path))

    @property
    def is_demo(self):
        """True for the public demo key (bool)."""
        return bool(_key_is_demo(ctypes.byref(self._k)))

    @property
    def fingerprint(self):
        """Public name of the key: 16 lowercase hex digits (str); safe to publish."""
        buf = (ctypes.c_char * 17)()
        _key_fp(ctypes.byref(self._k), buf)
        return buf.value.decode()

    def __repr__(self):
        return f"<provmark.Key {self.fingerprint}{' (demo)' if self.is_demo else ''}>"


def _addr(a):
    """Address of an array's data; the buffer-protocol path is the fastest one."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    except (TypeError, ValueError):  # read-only or empty arrays
        return a.ctypes.data


def _id(value, what):
    """An ID as the library takes it: a whole number 0..ID_MAX, never truncated."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= ID_MAX:
        raise ValueError(f"{what}: IDs are 0..{ID_MAX}, got {value}")
    return int(value)


def _number(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    return float(value)


def _rate(value):
    """A sample rate: a whole number of Hz (48000 or 48000.0; not 48000.9, which no audio has)."""
    rate = _number(value, "sample_rate")
    if not rate.is_integer():
        raise ValueError(f"sample_rate must be a whole number of Hz, not {value!r}")
    return rate


def _key(key, what="key"):
    if not isinstance(key, Key):
        raise TypeError(f"{what} must be a provmark.Key (e.g. Key.load(path)), not {type(key).__name__}")
    return key


def _layout(channels_first):
    if channels_first is not None and not isinstance(channels_first, bool):
        raise TypeError(f"channels_first must be True, False or None, not {type(channels_first).__name__}")
    return channels_first


def _samples(audio, what):
    """`audio` as a float array: anything numpy can view (__array__, the buffer
    protocol) without a copy; integer PCM scaled to [-1, 1) by its type's full
    scale (int16 by 32768, ...)."""
    a = np.asarray(audio)
    if np.issubdtype(a.dtype, np.signedinteger):
        return a.astype(np.float32) / np.float32(-np.iinfo(a.dtype).min)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{what}: expected float or signed integer samples, got {a.dtype}")
    return a


def _frames(audio, channels, channels_first, what):
    """A C-contiguous float32 (frames, channels) view or copy of one signal given as
    (frames, channels), or (channels, frames) when channels_first is True, or
    (frames,) for mono. With the layout undeclared (None), a shape that reads both
    ways for this channel count, e.g. (2, 2) for stereo, is refused."""
    if (channels_first is not True and type(audio) is np.ndarray and audio.dtype == np.float32
            and audio.ndim == 2 and audio.shape[1] == channels and audio.flags.c_contiguous
            and (channels_first is False or audio.shape[0] != channels)):
        return audio  # the common case, kept cheap: it runs once per chunk
    a = _samples(audio, what)
    if a.ndim == 1 and channels == 1:
        a = a.reshape(-1, 1)
    elif a.ndim == 2 and channels_first:
        a = a.T
    want = f"({channels}, frames)" if channels_first else f"(frames, {channels})"
    if a.ndim != 2 or a.shape[1] != channels:
        hint = ""
        if a.ndim == 2 and a.shape[0] == channels and channels_first is None:
            hint = "; for (channels, frames) pass channels_first=True"
        raise ValueError(f"{what}: expected shape {want}, got {np.shape(audio)}{hint}")
    if channels_first is None and channels > 1 and a.shape[0] == channels:
        raise ValueError(f"{what}: shape {np.shape(audio)} reads both as (frames, channels) and as "
                         f"(channels, frames); declare the layout with channels_first=False or True")
    return np.ascontiguousarray(a, dtype=np.float32)


def _batch(audio, channels, channels_first, what):
    """A (batch, ...) array of signals, each checked as _frames() checks one."""
    a = _samples(audio, what)
    if a.ndim != 3:
        want = f"(batch, {channels}, frames)" if channels_first else f"(batch, frames, {channels})"
        raise ValueError(f"{what}: expected shape {want}, got {np.shape(audio)}")
    if len(a) == 0:
        raise ValueError(f"{what}: the batch is empty")
    _frames(a[0], channels, channels_first, what)  # the layout check, once for all items
    return a


class _Handle:
    """Owns one library handle; freed by close(), `with`, or garbage collection."""

    _free = None
    _h = None

    def __del__(self):
        self.close()

    def close(self):
        """Free the library handle now (also done by `with` and garbage collection);
        any later call raises ValueError."""
        if self._h:
            type(self)._free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self):
        if not self._h:
            raise ValueError(f"provmark.{type(self).__name__} is closed")
        return self._h


class Embedder(_Handle):
    """Streaming embedder of one (model_id, dataset_id) mark with one key:
    process() chunks of any length, then flush(); or mark() a whole signal, or
    mark_batch() a batch. One Embedder per thread (the library releases the GIL).

    sample_rate: Hz, a whole number (int, or a float such as 48000.0), within the library's
    range: 8000..384000.
    channels: 1..MAX_CHANNELS. key: a provmark.Key.
    model_id, dataset_id: ints 0..ID_MAX (24 bits).
    strength: STRENGTH_MIN..STRENGTH_MAX (dimensionless, default STRENGTH_DEFAULT).
    channels_first: the layout of every array given to this object and returned by
      it: False (frames, channels), True (channels, frames), None (the default:
      (frames, channels), and a shape that reads both ways, e.g. (2, 2) for stereo,
      is refused with ValueError rather than guessed).
    """

    _free = staticmethod(_emb_free)

    def __init__(self, sample_rate, channels, key, model_id, dataset_id,
                 strength=STRENGTH_DEFAULT, channels_first=None):
        """See the class: sample_rate (Hz), channels, key, model_id, dataset_id,
        strength, channels_first. ProvmarkError if the library refuses them (e.g. an
        unsupported rate), TypeError/ValueError for arguments of the wrong kind."""
        self.channels = int(channels)
        self.channels_first = _layout(channels_first)
        h = _vp()
        _check(_emb_new(ctypes.byref(h), _rate(sample_rate), self.channels,
                        ctypes.byref(_key(key)._k), _id(model_id, "model_id"),
                        _id(dataset_id, "dataset_id"), _number(strength, "strength")),
               "embedder")
        self._h = h

    @property
    def latency(self):
        """Frames (int) by which process()'s output lags its input."""
        return int(_emb_latency(self._handle()))

    @property
    def mark_level_db(self):
        """Mark energy relative to the signal over the last payload period, in dB (float)."""
        return float(_emb_level(self._handle()))

    def set_ids(self, model_id, dataset_id):
        """New IDs (ints 0..ID_MAX) from the next payload boundary on."""
        _check(_emb_ids(self._handle(), _id(model_id, "model_id"), _id(dataset_id, "dataset_id")))

    def set_strength(self, strength):
        """New strength (STRENGTH_MIN..STRENGTH_MAX) from the next payload boundary on."""
        _check(_emb_strength(self._handle(), _number(strength, "strength")))

    def set_format(self, version):
        """Write format version `version` (int; 1 or 2, docs/FORMAT.md; FORMAT_DEFAULT
        unless set) from the next payload boundary on (on a new Embedder: from its
        first sample). The detector reads every version."""
        if isinstance(version, (bool, np.bool_)) or not isinstance(version, (int, np.integer)):
            raise TypeError("version must be an int")
        version = int(version)
        if not -2 ** 31 <= version < 2 ** 31:  # never truncated to a C int
            raise ValueError(f"version {version} is not a format version (1 or 2)")
        _check(_emb_format(self._handle(), version), "set_format")

    def _out(self, shape):
        return np.empty(shape[::-1] if self.channels_first else shape, np.float32)

    def _layout_out(self, y):
        return np.ascontiguousarray(y.T) if self.channels_first else y

    def process(self, chunk, out=None):
        """Mark a chunk of any length (see the class for shapes; float32 or float64
        in [-1, 1], or int16/int32 PCM). Returns float32 of the chunk's shape,
        delayed by .latency frames.

        out: a writable C-contiguous float32 array of the chunk's shape (it may be
        the chunk itself), to avoid allocating the result; (frames, channels)
        layout only."""
        a = _frames(chunk, self.channels, self.channels_first, "Embedder.process")
        if out is not None and self.channels_first:
            raise ValueError("Embedder.process: out= is for the (frames, channels) layout")
        if out is None:
            out = np.empty(a.shape, np.float32)
        elif (not isinstance(out, np.ndarray) or out.shape != a.shape or out.dtype != np.float32
              or not out.flags.c_contiguous or not out.flags.writeable):
            raise ValueError("Embedder.process: out must be a writable C-contiguous float32 array like chunk")
        dst = _addr(out)
        status = _emb_process(self._handle(), dst if out is a else _addr(a), dst, a.shape[0])
        if status < 0:
            raise ProvmarkError(status)
        if a is chunk:
            return out
        if np.ndim(chunk) == 1:
            return out.reshape(-1)
        return self._layout_out(out)

    def flush(self):
        """End of stream: the last .latency frames (float32, this object's layout);
        the embedder is then reset for a new stream."""
        out = np.empty((self.latency, self.channels), dtype=np.float32)
        _check(_emb_flush(self._handle(), _addr(out)))
        return self._layout_out(out)

    def reset(self):
        """Start a new stream: drop the buffered audio and restart the mark."""
        _emb_reset(self._handle())

    def _mark(self, a):
        """A (frames, channels) float32 array marked whole, aligned with the input."""
        self.reset()
        lat = self.latency
        out = np.empty((a.shape[0] + lat, self.channels), np.float32)
        _check(_emb_process(self._handle(), _addr(a), _addr(out), a.shape[0]))
        _check(_emb_flush(self._handle(), _addr(out[a.shape[0]:])))
        return out[lat:]

    def mark(self, audio):
        """Mark a whole signal (resets first): float32 of the input's shape and
        layout, sample-aligned with it (the latency is taken care of)."""
        y = self._mark(_frames(audio, self.channels, self.channels_first, "Embedder.mark"))
        return y.reshape(-1) if np.ndim(audio) == 1 else self._layout_out(y)

    def mark_batch(self, batch):
        """Mark each signal of a batch independently, as mark() would: batch is
        (batch, channels, frames) with channels_first=True, (batch, frames,
        channels) otherwise, e.g. a model's float32 output. Returns a new float32
        array of the same shape; every item carries this embedder's IDs."""
        a = _batch(batch, self.channels, self.channels_first, "Embedder.mark_batch")
        out = np.empty(a.shape, np.float32)
        for i, item in enumerate(a):
            y = self._mark(_frames(item, self.channels, bool(self.channels_first), "Embedder.mark_batch"))
            out[i] = y.T if self.channels_first else y
        return out


class Segment:
    """A marked time range: start and end in seconds from the start of the audio
    pushed (float), score: the mark's strength there in sigmas (float)."""

    __slots__ = ("start", "end", "score")

    def __init__(self, start, end, score):
        """start, end: seconds; score: sigmas."""
        self.start, self.end, self.score = start, end, score

    def to_dict(self):
        """{'start': s, 'end': s, 'score': sigmas}, as in `provmark detect --json`."""
        return {"start": self.start, "end": self.end, "score": self.score}

    def __repr__(self):
        return f"Segment({self.start:.2f}-{self.end:.2f} s, {self.score:.1f} sigma)"


def _fill(obj, r, keys, found):
    """The fields that a mark and the summary of a file share (None where nothing was found)."""
    obj.model_id = int(r.model_id) if found else None
    obj.dataset_id = int(r.dataset_id) if found else None
    obj.key = keys[r.key_index] if found else None
    obj.p_false = float(r.p_false)
    obj.sync_z = float(r.sync_z)
    obj.speed = float(r.speed)
    obj.tempo = float(r.tempo)
    obj.segments = [Segment(s.start, s.end, s.score) for s in r.segments[:r.n_segments]]


def _dict(obj):
    """The shared fields under the names of `provmark detect --json`."""
    return {"model_id": obj.model_id, "dataset_id": obj.dataset_id, "key": obj.key.fingerprint,
            "demo_key": obj.key.is_demo, "p_false": obj.p_false, "sync_z": obj.sync_z,
            "speed": obj.speed, "tempo": obj.tempo, "segments": [s.to_dict() for s in obj.segments],
            "recognised": obj.recognised, "formats": list(obj.formats)}


class Mark:
    """One mark of a file. model_id, dataset_id: int; key: the provmark.Key that
    matched; p_false: bound on the probability that unmarked audio gives this
    report (float, 0..1); sync_z: synchronisation score (sigmas); speed: the
    frequency scale found, tempo: the time scale found (1.0 = unchanged; a speed
    change scales both, a tempo change tempo only, a pitch shift speed only);
    segments: the marked time ranges (list of Segment); recognised: True when the
    mark was too weak to be decoded and was recognised as a pair given to
    Detector.expect(); formats: the format versions it was read in (list of int,
    ascending: [2], or [1, 2] when one key wrote these IDs in both)."""

    def __init__(self, m, keys, recognised=False, formats=0):
        """Made by Detector.finish() from the library's record, the detector's keys
        and pm_detector_mark_formats()'s bit mask (bit v - 1 for version v)."""
        _fill(self, m, keys, True)
        self.recognised = bool(recognised)
        self.formats = [v for v in range(1, formats.bit_length() + 1) if formats >> (v - 1) & 1]

    def to_dict(self):
        """A JSON-ready dict, with the field names of `provmark detect --json`'s marks
        (key: the fingerprint; demo_key: True when it is the public demo key)."""
        return _dict(self)

    def __repr__(self):
        spans = ", ".join(f"{s.start:.1f}-{s.end:.1f} s" for s in self.segments)
        return f"<provmark.Mark: model {self.model_id}, dataset {self.dataset_id}, {spans}>"


class Result:
    """What the detector found in one signal. found: bool; the fields of Mark
    (model_id, dataset_id, key: None when nothing was found) describe the strongest
    mark; marks: every mark of the signal (list of Mark, strongest first);
    attempts: how many decoded words were checked against the keyed tag, over
    all keys (int; p_false = attempts * 2**-36)."""

    def __init__(self, r, keys, marks=()):
        """Made by Detector.finish() from the library's result, keys and marks."""
        self.marks = list(marks)
        self.found = bool(r.found)
        self.recognised = self.marks[0].recognised if self.marks else False
        self.formats = list(self.marks[0].formats) if self.marks else []
        self.attempts = int(r.attempts)
        _fill(self, r, keys, self.found)

    def to_dict(self):
        """A JSON-ready dict (json.dumps works on it) with the field names of
        `provmark detect --json`: found and attempts, and only when a mark was
        found model_id, dataset_id, key, demo_key, p_false, sync_z, speed, tempo,
        segments and marks (as the CLI, an unmarked result has no mark field)."""
        d = {"found": self.found}
        if self.found:
            d.update(_dict(self))
            d["marks"] = [m.to_dict() for m in self.marks]
        d["attempts"] = self.attempts
        return d

    def __repr__(self):
        if not self.found:
            return "<provmark.Result: no mark>"
        return (f"<provmark.Result: model {self.model_id}, dataset {self.dataset_id}, "
                f"p_false {self.p_false:.1e}>")


class Detector(_Handle):
    """Blind detector: push() audio in any number of calls, then finish(); or
    detect() one whole signal, or detect_batch() a batch.

    sample_rate: Hz. channels: 1..MAX_CHANNELS. keys: a provmark.Key or a list of
    1..MAX_KEYS of them (each is tried; Result.key says which matched).
    channels_first: the layout of the arrays given, as for Embedder.
    """

    _free = staticmethod(_det_free)

    def __init__(self, sample_rate, channels, keys, channels_first=None):
        """See the class: sample_rate (Hz), channels, keys, channels_first."""
        if isinstance(keys, Key):
            keys = [keys]
        self.keys = [_key(k, "each key") for k in keys]
        self.channels = int(channels)
        self.channels_first = _layout(channels_first)
        if not 1 <= len(self.keys) <= MAX_KEYS:
            raise ValueError(f"Detector: give 1 to {MAX_KEYS} keys")
        arr = (_Key * len(self.keys))(*[k._k for k in self.keys])
        h = _vp()
        _check(_det_new(ctypes.byref(h), _rate(sample_rate), self.channels, arr,
                        len(self.keys)), "detector")
        self._h = h

    def push(self, audio):
        """Add audio (any length; the shapes and dtypes of Embedder.process)."""
        a = _frames(audio, self.channels, self.channels_first, "Detector.push")
        _check(_det_push(self._handle(), _addr(a), a.shape[0]))

    def expect(self, model_id, dataset_id, key=None):
        """Expect marks of these IDs (e.g. every pair of your registry), made with `key`
        (one of the detector's keys; None: each of them). A mark too weak to be decoded
        blind is then still recognised (Mark.recognised); p_false covers these tests.
        At most MAX_EXPECTED pairs over the keys; kept across reset()."""
        model_id, dataset_id = _id(model_id, "model_id"), _id(dataset_id, "dataset_id")
        if key is None:
            indices = range(len(self.keys))
        else:
            indices = [i for i, k in enumerate(self.keys) if k is key or k.fingerprint == _key(key).fingerprint]
            if not indices:
                raise ValueError("Detector.expect: key is not one of the detector's keys")
        for i in indices:
            _check(_det_expect(self._handle(), i, model_id, dataset_id), "Detector.expect")

    def finish(self):
        """Decode everything pushed: a Result. Afterwards only reset() or close()."""
        r = _Result()
        _check(_det_finish(self._handle(), ctypes.byref(r)))
        n = _det_mark_count(self._handle())
        _check(n)
        marks = []
        for i in range(n):
            m = _Mark()
            _check(_det_mark(self._handle(), i, ctypes.byref(m)))
            rec = _det_recognised(self._handle(), i)
            _check(rec)
            formats = _det_formats(self._handle(), i)
            _check(formats)
            marks.append(Mark(m, self.keys, rec == 1, formats))
        return Result(r, self.keys, marks)

    def reset(self):
        """Forget what was pushed, for a new signal."""
        _det_reset(self._handle())

    def detect(self, audio):
        """Detect in one whole signal (resets first): a Result."""
        self.reset()
        self.push(audio)
        return self.finish()

    def detect_batch(self, batch):
        """Detect in each signal of a batch, shaped as for Embedder.mark_batch:
        a list of Result, one per item, in order."""
        a = _batch(batch, self.channels, self.channels_first, "Detector.detect_batch")
        layout = bool(self.channels_first)
        results = []
        for item in a:
            self.reset()
            f = _frames(item, self.channels, layout, "Detector.detect_batch")
            _check(_det_push(self._handle(), _addr(f), f.shape[0]))
            results.append(self.finish())
        return results
