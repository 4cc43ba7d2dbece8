/*
 * A small LV2 host on lilv that checks the provmark plugin as hosts use it.
 * usage: lv2host IN.wav KEYFILE OUT.wav
 *   Prints "ok NAME" / "FAIL NAME" lines; OUT.wav is the plugin's output (model 7,
 *   dataset 42, the given key) for the caller to encode and detect.
 *        lv2host --bench IN.wav
 *   CPU cost of run() on IN.wav at block sizes 32, 256 and 4096, and the dearest single
 *   run() call of 32 frames at 192 kHz.
 *        lv2host --stress CALLS IN.wav
 *        lv2host --parallel INSTANCES LOADS DIR
 *   INSTANCES instances, each with its own worker thread (as Ardour runs them), load
 *   LOADS keys each in turn, all at once; every answer must name the requested key.
 *
 * Workers are hosted three ways, as real hosts do: "sync" (jobs run right after run(),
 * as in Ardour's export), "jalv" (a worker thread per instance with 4096-byte queues that
 * drop a message that does not fit without telling the plugin, as jalv 1.6 does) and
 * "thread" (a worker thread per instance, full queues reported, as Ardour).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ports.h"
#include "provmark.h"
#include "timing.h"

/* ---- the interposer: what the audio thread does inside run() (armed only there) ----
 * Allocation, stdio, file and lock calls are counted; the sanitizers own these symbols,
 * so a sanitizer build counts nothing (its own checks run instead). */
static _Thread_local int armed;
static atomic_long allocs, io_calls, lock_calls;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define INTERPOSED 0
#else
#define INTERPOSED 1
/* Visible to the plugin (the build hides symbols by default); -rdynamic exports them. */
#pragma GCC visibility push(default)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
void *malloc(size_t n) { allocs += armed; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { allocs += armed; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { allocs += armed; return __libc_realloc(p, n); }
#define NEXT(name) static __typeof__(name) *real; if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)
int vfprintf(FILE *f, const char *fmt, va_list ap) { NEXT(vfprintf); io_calls += armed; return real(f, fmt, ap); }
int fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}
int fputs(const char *s, FILE *f) { NEXT(fputs); io_calls += armed; return real(s, f); }
int puts(const char *s) { NEXT(puts); io_calls += armed; return real(s); }
int fputc(int c, FILE *f) { NEXT(fputc); io_calls += armed; return real(c, f); }
size_t fwrite(const void *p, size_t a, size_t b, FILE *f) { NEXT(fwrite); io_calls += armed; return real(p, a, b, f); }
ssize_t write(int fd, const void *p, size_t n) { NEXT(write); io_calls += armed; return real(fd, p, n); }
FILE *fopen(const char *path, const char *mode) { NEXT(fopen); io_calls += armed; return real(path, mode); }
int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int mode = va_arg(ap, int);
    va_end(ap);
    NEXT(open);
    io_calls += armed;
    return real(path, flags, mode);
}
int pthread_mutex_lock(pthread_mutex_t *m) { NEXT(pthread_mutex_lock); lock_calls += armed; return real(m); }
#pragma GCC visibility pop
#endif

static int failures;
static void check(const char *name, int ok)
{
    printf("%s %s\n", ok ? "ok" : "FAIL", name);
    failures += !ok;
}

/* ---- urid map (only the main thread maps) ---- */
static char *uris[256];
static int n_uris;
static LV2_URID map_uri(LV2_URID_Map_Handle h, const char *uri)
{
    (void)h;
    for (int i = 0; i < n_uris; i++)
        if (!strcmp(uris[i], uri))
            return (LV2_URID)i + 1;
    uris[n_uris] = strdup(uri);
    return (LV2_URID)++n_uris;
}
static const char *unmap_uri(LV2_URID_Unmap_Handle h, LV2_URID u)
{
    (void)h;
    return u >= 1 && (int)u <= n_uris ? uris[u - 1] : NULL;
}
static LV2_URID_Map map = {NULL, map_uri};
static LV2_URID_Unmap unmap = {NULL, unmap_uri};

/* ---- log: counted; anything but Trace from inside run() is a fault ---- */
static LV2_URID urid_trace, urid_error;
static atomic_long log_errors, log_in_run;
static int log_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap)
{
    (void)h, (void)fmt, (void)ap;
    log_errors += type == urid_error;
    log_in_run += armed && type != urid_trace;
    return 0;
}
static int log_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = log_vprintf(h, type, fmt, ap);
    va_end(ap);
    return r;
}
static LV2_Log_Log logger = {NULL, log_printf, log_vprintf};

/* ---- worker queues: byte rings of [size][message], one writer and one reader ---- */
typedef struct ring {
    unsigned char *buf;
    uint32_t cap;
    atomic_uint r, w;
} ring;
static uint32_t ring_space(ring *q) { return q->cap - 1 - (atomic_load(&q->w) - atomic_load(&q->r) + q->cap) % q->cap; }
/* Write size and message, then publish both at once. */
static void ring_put(ring *q, uint32_t size, const void *data)
{
    uint32_t w = atomic_load(&q->w);
    for (uint32_t i = 0; i < sizeof size; i++)
        q->buf[(w + i) % q->cap] = ((const unsigned char *)&size)[i];
    w += (uint32_t)sizeof size;
    for (uint32_t i = 0; i < size; i++)
        q->buf[(w + i) % q->cap] = ((const unsigned char *)data)[i];
    atomic_store(&q->w, (w + size) % q->cap);
}
static void ring_get(ring *q, void *data, uint32_t n)
{
    uint32_t r = atomic_load(&q->r);
    for (uint32_t i = 0; i < n; i++)
        ((unsigned char *)data)[i] = q->buf[(r + i) % q->cap];
    atomic_store(&q->r, (r + n) % q->cap);
}
static int ring_empty(ring *q) { return atomic_load(&q->r) == atomic_load(&q->w); }

enum { MODE_SYNC, MODE_JALV, MODE_THREAD, MODE_DROP };
static const char *const mode_name[] = {"sync", "jalv", "thread", "drop"};

typedef struct worker {
    int mode;
    const LV2_Worker_Interface *iface;
    LV2_Handle handle;
    ring req, resp;
    pthread_t thread;
    sem_t sem;
    atomic_int quit;
    atomic_long dropped;
    atomic_int pending; /* jobs queued and not yet done by the worker thread */
    LV2_Worker_Schedule sched;
} worker;

/* A message goes in whole or not at all. jalv 1.6.6 ignores a failed write and reports
 * success: the plugin never learns that its message is gone. */
static LV2_Worker_Status enqueue(worker *w, ring *q, uint32_t size, const void *data)
{
    if (ring_space(q) < sizeof size + size) {
        if (w->mode == MODE_JALV || w->mode == MODE_DROP) {
            w->dropped++;
            return LV2_WORKER_SUCCESS;
        }
        return LV2_WORKER_ERR_NO_SPACE;
    }
    if (q == &w->req)
        atomic_fetch_add(&w->pending, 1);
    ring_put(q, size, data);
    return LV2_WORKER_SUCCESS;
}
static LV2_Worker_Status schedule(LV2_Worker_Schedule_Handle h, uint32_t size, const void *data)
{
    worker *w = h;
    LV2_Worker_Status st = enqueue(w, &w->req, size, data);
    if (st == LV2_WORKER_SUCCESS && w->mode != MODE_SYNC)
        sem_post(&w->sem);
    return st;
}
static LV2_Worker_Status respond(LV2_Worker_Respond_Handle h, uint32_t size, const void *data)
{
    worker *w = h;
    return enqueue(w, &w->resp, size, data);
}
/* Run every queued job (the worker thread, or right after run() in sync mode). */
static void work_all(worker *w)
{
    static _Thread_local unsigned char job[65536];
    while (!ring_empty(&w->req)) {
        uint32_t size;
        ring_get(&w->req, &size, sizeof size);
        ring_get(&w->req, job, size);
        w->iface->work(w->handle, respond, w, size, job);
        atomic_fetch_sub(&w->pending, 1);
    }
}
static void *worker_thread(void *arg)
{
    worker *w = arg;
    for (;;) {
        sem_wait(&w->sem);
        if (atomic_load(&w->quit))
            return NULL;
        work_all(w);
    }
}
static void deliver_responses(worker *w)
{
    unsigned char msg[65536];
    while (!ring_empty(&w->resp)) {
        uint32_t size;
        ring_get(&w->resp, &size, sizeof size);
        ring_get(&w->resp, msg, size);
        w->iface->work_response(w->handle, size, msg);
    }
}
static void worker_init(worker *w, int mode)
{
    memset(w, 0, sizeof *w);
    w->mode = mode;
    w->req.cap = w->resp.cap = mode == MODE_DROP ? 16 : mode == MODE_JALV ? 4096 : 32768;
    w->req.buf = malloc(w->req.cap);
    w->resp.buf = malloc(w->resp.cap);
    w->sched = (LV2_Worker_Schedule){w, schedule};
}
static void worker_start(worker *w, LilvInstance *li)
{
    w->iface = lilv_instance_get_extension_data(li, LV2_WORKER__interface);
    w->handle = lilv_instance_get_handle(li);
    if (w->mode != MODE_SYNC) {
        sem_init(&w->sem, 0, 0);
        pthread_create(&w->thread, NULL, worker_thread, w);
    }
}
static void worker_stop(worker *w)
{
    if (w->mode != MODE_SYNC) {
        atomic_store(&w->quit, 1);
        sem_post(&w->sem);
        pthread_join(w->thread, NULL);
        sem_destroy(&w->sem);
    }
    free(w->req.buf);
    free(w->resp.buf);
}

/* ---- state: properties kept in memory; paths mapped into a "session" folder ---- */
typedef struct prop {
    uint32_t key, type, flags;
    size_t size;
    char value[4200];
} prop;
static prop saved[8];
static int n_saved;
static LV2_State_Status store(LV2_State_Handle h, uint32_t key, const void *value, size_t size,
                              uint32_t type, uint32_t flags)
{
    (void)h;
    if (n_saved == 8 || size > sizeof saved[0].value)
        return LV2_STATE_ERR_NO_SPACE;
    saved[n_saved] = (prop){key, type, flags, size, {0}};
    memcpy(saved[n_saved++].value, value, size);
    return LV2_STATE_SUCCESS;
}
static const void *retrieve(LV2_State_Handle h, uint32_t key, size_t *size, uint32_t *type,
                            uint32_t *flags)
{
    (void)h;
    for (int i = 0; i < n_saved; i++)
        if (saved[i].key == key) {
            *size = saved[i].size, *type = saved[i].type, *flags = saved[i].flags;
            return saved[i].value;
        }
    return NULL;
}
static const char *saved_text(const char *uri)
{
    LV2_URID k = map_uri(NULL, uri);
    for (int i = 0; i < n_saved; i++)
        if (saved[i].key == k)
            return saved[i].value;
    return NULL;
}
/* As lilv does for a file outside the session: a link in the session folder, saved by name. */
static char session[1024];
static char *abstract_path(LV2_State_Map_Path_Handle h, const char *p)
{
    (void)h;
    const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
    char link[2048];
    snprintf(link, sizeof link, "%s/%s", session, base);
    unlink(link);
    if (symlink(p, link) != 0)
        return strdup(p);
    return strdup(base);
}
static char *absolute_path(LV2_State_Map_Path_Handle h, const char *p)
{
    (void)h;
    char *out = malloc(2048);
    snprintf(out, 2048, "%s/%s", session, p);
    return out;
}
static LV2_State_Map_Path map_path = {NULL, abstract_path, absolute_path};

/* ---- one plugin instance with its ports, worker and what it last notified ---- */
typedef struct inst {
    LilvInstance *li;
    int ch;
    uint32_t port_in[2], port_out[2];
    float ctl[PM_N_CONTROLS]; /* by the plugin's control port index */
    union { /* atom buffers must be 64-bit aligned */
        LV2_Atom_Sequence seq;
        uint64_t align;
        unsigned char buf[8192];
    } control, notify;
    worker w;
    LV2_Feature f_sched;
    char key[4200], status[256]; /* last patch:Set of each on the notify port */
    long notified;
} inst;

static LilvWorld *world;
static const LilvPlugin *plugin_of(const char *uri)
{
    LilvNode *u = lilv_new_uri(world, uri);
    const LilvPlugin *p = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), u);
    lilv_node_free(u);
    return p;
}
/* Port index by symbol, as a host finds it in the TTL. */
static uint32_t port(const LilvPlugin *p, const char *symbol)
{
    LilvNode *s = lilv_new_string(world, symbol);
    const LilvPort *port = lilv_plugin_get_port_by_symbol(p, s);
    lilv_node_free(s);
    if (!port) {
        fprintf(stderr, "lv2host: no port %s\n", symbol);
        exit(2);
    }
    return lilv_port_get_index(p, port);
}

static int32_t min_block = 1, max_block = 8192;
static LV2_Options_Option options[3];
static LV2_Feature f_map = {LV2_URID__map, &map}, f_unmap = {LV2_URID__unmap, &unmap},
                   f_log = {LV2_LOG__log, &logger}, f_opts = {LV2_OPTIONS__options, options},
                   f_mp = {LV2_STATE__mapPath, &map_path},
                   f_bounded = {LV2_BUF_SIZE__boundedBlockLength, NULL};
static LV2_URID urid_patch_set, urid_patch_property, urid_patch_value, urid_key, urid_key_status;

static void inst_new(inst *I, const char *uri, double rate, int mode)
{
    memset(I, 0, sizeof *I);
    worker_init(&I->w, mode);
    I->f_sched = (LV2_Feature){LV2_WORKER__schedule, &I->w.sched};
    const LV2_Feature *features[] = {&f_map, &f_unmap, &f_log, &I->f_sched, &f_opts, &f_bounded, NULL};
    const LilvPlugin *p = plugin_of(uri);
    I->li = p ? lilv_plugin_instantiate(p, rate, features) : NULL;
    if (!I->li) {
        fprintf(stderr, "lv2host: cannot instantiate %s (is LV2_PATH set?)\n", uri);
        exit(2);
    }
    I->ch = strstr(uri, "mono") ? 1 : 2;
    static const char *const controls[] = {"model_id", "dataset_id", "strength", "enabled",
                                           "latency", "mark_level", "embedding", "key_state"};
    for (int c = 0; c < 8; c++)
        lilv_instance_connect_port(I->li, port(p, controls[c]), &I->ctl[port(p, controls[c])]);
    I->ctl[port(p, "model_id")] = 7, I->ctl[port(p, "dataset_id")] = 42;
    I->ctl[port(p, "strength")] = 1, I->ctl[port(p, "enabled")] = 1;
    lilv_instance_connect_port(I->li, port(p, "control"), &I->control);
    lilv_instance_connect_port(I->li, port(p, "notify"), &I->notify);
    I->port_in[0] = port(p, I->ch == 1 ? "in" : "in_l");
    I->port_out[0] = port(p, I->ch == 1 ? "out" : "out_l");
    if (I->ch == 2)
        I->port_in[1] = port(p, "in_r"), I->port_out[1] = port(p, "out_r");
    worker_start(&I->w, I->li);
    lilv_instance_activate(I->li);
}

static void inst_free(inst *I)
{
    worker_stop(&I->w); /* before the instance: the worker thread may be in work() */
    lilv_instance_deactivate(I->li);
    lilv_instance_free(I->li);
}

static void clear_control(inst *I)
{
    I->control.seq.atom.type = map_uri(NULL, LV2_ATOM__Sequence);
    I->control.seq.atom.size = sizeof(LV2_Atom_Sequence_Body);
    I->control.seq.body.unit = 0;
}

/* Send patch:Set key=path on the control port with the next run. */
static void send_key(inst *I, const char *path)
{
    LV2_Atom_Forge forge;
    lv2_atom_forge_init(&forge, &map);
    lv2_atom_forge_set_buffer(&forge, I->control.buf, sizeof I->control.buf);
    LV2_Atom_Forge_Frame seq, obj;
    lv2_atom_forge_sequence_head(&forge, &seq, 0);
    lv2_atom_forge_frame_time(&forge, 0);
    lv2_atom_forge_object(&forge, &obj, 0, urid_patch_set);
    lv2_atom_forge_key(&forge, urid_patch_property);
    lv2_atom_forge_urid(&forge, urid_key);
    lv2_atom_forge_key(&forge, urid_patch_value);
    lv2_atom_forge_path(&forge, path, (uint32_t)strlen(path));
    lv2_atom_forge_pop(&forge, &obj);
    lv2_atom_forge_pop(&forge, &seq);
}

/* What the plugin said on its notify port: the last key and status it set. */
static void read_notify(inst *I)
{
    LV2_ATOM_SEQUENCE_FOREACH (&I->notify.seq, ev) {
        const LV2_Atom_Object *obj = (const LV2_Atom_Object *)&ev->body;
        if (obj->body.otype != urid_patch_set)
            continue;
        const LV2_Atom *property = NULL, *value = NULL;
        lv2_atom_object_get(obj, urid_patch_property, &property, urid_patch_value, &value, 0);
        if (!property || !value)
            continue;
        const LV2_URID which = ((const LV2_Atom_URID *)property)->body;
        char *dst = which == urid_key ? I->key : which == urid_key_status ? I->status : NULL;
        size_t cap = which == urid_key ? sizeof I->key : sizeof I->status;
        if (dst && value->size > 0 && value->size <= cap) { /* an empty path is a fault: kept */
            memcpy(dst, LV2_ATOM_BODY_CONST(value), value->size);
            dst[value->size - 1] = '\0';
            I->notified++;
        } else if (dst) {
            snprintf(dst, cap, "<empty or oversized value>");
        }
    }
}

/* One run() as a host's process callback does it. */
static void run_block(inst *I, float **in, float **out, size_t offset, uint32_t frames)
{
    for (int c = 0; c < I->ch; c++) {
        lilv_instance_connect_port(I->li, I->port_in[c], in[c] + offset);
        lilv_instance_connect_port(I->li, I->port_out[c], out[c] + offset);
    }
    I->notify.seq.atom.size = sizeof I->notify.buf - sizeof(LV2_Atom);
    deliver_responses(&I->w);
    armed = 1;
    lilv_instance_run(I->li, frames);
    armed = 0;
    clear_control(I);
    read_notify(I);
    if (I->w.mode == MODE_SYNC)
        work_all(&I->w);
}

/* A real host's audio runs in real time: the plugin's wait for its key (PM_KEY_TIMEOUT_SECONDS
 * of audio) gives the worker that long. This host runs a thousand times faster, so after a
 * block that leaves jobs with a worker thread it waits for them (a loaded machine may not
 * run that thread for a while: seen under ASan beside other builds), up to a minute. */
static void wait_worker(inst *I)
{
    for (int ms = 0; I->w.mode != MODE_SYNC && atomic_load(&I->w.pending) > 0 && ms < 60000; ms++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
}

/*
 * Process planar in[c] -> out[c] (may be the same) in blocks of `block` frames,
 * or of random sizes when block is 0; returns the latency read after the first run.
 */
static int process(inst *I, float **in, float **out, size_t n, unsigned *seed, size_t block)
{
    int latency = -1;
    const int random_blocks = block == 0;
    for (size_t done = 0; done < n;) {
        size_t b = random_blocks ? 1 + (size_t)rand_r(seed) % 8192 : block;
        if (random_blocks && rand_r(seed) % 5 == 0)
            b = 1 + (size_t)rand_r(seed) % 4;
        if (b > n - done)
            b = n - done;
        run_block(I, in, out, done, (uint32_t)b);
        wait_worker(I);
        if (latency < 0)
            latency = (int)I->ctl[PM_PORT_LATENCY];
        done += b;
    }
    return latency;
}

static float **planar(const float *x, size_t n, int ch, size_t pad)
{
    float **p = malloc(sizeof *p * 2);
    for (int c = 0; c < 2; c++) {
        p[c] = calloc(n + pad, sizeof(float));
        for (size_t i = 0; c < ch && i < n; i++)
            p[c][i] = x[i * (size_t)ch + (size_t)c];
    }
    return p;
}

/* The library's own output for the same input, IDs and key. */
static float **reference(float **in, size_t n, int ch, double rate, const pm_key *key)
{
    pm_embedder *e;
    float **out = malloc(sizeof *out * 2);
    for (int c = 0; c < 2; c++)
        out[c] = calloc(n, sizeof(float));
    if (pm_embedder_new(&e, rate, ch, key, 7, 42, 1.0f) == PM_OK) {
        if (pm_embedder_process_planar(e, (const float *const *)in, out, n) != PM_OK)
            memset(out[0], 0, sizeof(float) * n);
        pm_embedder_free(e);
    }
    return out;
}

static void free2(float **p)
{
    if (p) {
        free(p[0]);
        free(p[1]);
        free(p);
    }
}

static int same(float **a, float **b, int ch, size_t n, size_t lat_b)
{
    for (int c = 0; c < ch; c++)
        if (memcmp(a[c], b[c] + lat_b, sizeof(float) * (n - lat_b)) != 0)
            return 0;
    return 1;
}

/* out is in delayed by lat frames, sample for sample (== : a -0 may come out as +0). */
static int passes(float **in, float **out, int ch, size_t n, int lat)
{
    if (lat <= 0)
        return 0;
    for (int c = 0; c < ch; c++)
        for (size_t i = 0; i + (size_t)lat < n; i++)
            if (out[c][i + (size_t)lat] != in[c][i])
                return 0;
    return 1;
}

/* Detect planar stereo audio from frame `from` with one key: 1 if model/dataset found. */
static int detected(float **y, size_t from, size_t n, double rate, const pm_key *key,
                    uint32_t model, uint32_t dataset)
{
    float *x = malloc(sizeof(float) * 2 * (n - from));
    for (size_t i = from; i < n; i++)
        x[2 * (i - from)] = y[0][i], x[2 * (i - from) + 1] = y[1][i];
    pm_detector *d;
    pm_result res = {0};
    int ok = pm_detector_new(&d, rate, 2, key, 1) == PM_OK;
    if (ok) {
        ok = pm_detector_push_interleaved(d, x, n - from) == PM_OK &&
             pm_detector_finish(d, &res) == PM_OK;
        pm_detector_free(d);
    }
    free(x);
    return ok && res.found && res.model_id == model && res.dataset_id == dataset;
}

/* CPU cost of run() at fixed block sizes, median of 5 passes over the file; then the
 * dearest single call at 32 frames and 192 kHz against the block's real-time budget. */
static double thread_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static int bench(float *x, size_t n, double rate)
{
    static const size_t blocks[] = {32, 256, 4096};
    float **in = planar(x, n, 2, 0), **out = planar(x, 0, 2, n);
    printf("| block | x real time | %% of one core |\n|---|---|---|\n");
    for (int b = 0; b < 3; b++) {
        double t[5];
        for (int r = 0; r < 5; r++) {
            inst I;
            inst_new(&I, "urn:provmark:stereo", rate, MODE_SYNC);
            clear_control(&I);
            unsigned seed = 1;
            double t0 = cpu_seconds();
            process(&I, in, out, n, &seed, blocks[b]);
            t[r] = cpu_seconds() - t0;
            inst_free(&I);
        }
        double x_rt = n / rate / median(t, 5);
        printf("| %zu | %.0f | %.3f |\n", blocks[b], x_rt, 100.0 / x_rt);
    }
    /* The same audio taken as 192 kHz: per-call CPU time of each 32-frame run(). */
    const double hi_rate = 192000.0;
    const uint32_t block = 32;
    const double budget = block / hi_rate;
    double worst[5], mean[5], p999[5];
    size_t calls = n / block;
    double *t = malloc(sizeof(double) * calls);
    for (int r = 0; r < 5; r++) {
        inst I;
        inst_new(&I, "urn:provmark:stereo", hi_rate, MODE_SYNC);
        clear_control(&I);
        double sum = 0;
        for (size_t k = 0; k < calls; k++) {
            double t0 = thread_seconds();
            run_block(&I, in, out, k * block, block);
            t[k] = thread_seconds() - t0;
            sum += t[k];
        }
        mean[r] = sum / (double)calls;
        qsort(t, calls, sizeof t[0], cmp_double);
        worst[r] = t[calls - 1];
        p999[r] = t[calls - 1 - calls / 1000];
        inst_free(&I);
    }
    printf("\n| 32 frames at 192 kHz (budget %.0f us) | mean | 99.9th percentile | worst |\n|---|---|---|---|\n",
           budget * 1e6);
    double m = median(mean, 5), p = median(p999, 5), w = median(worst, 5);
    printf("| per run() call, us (median of 5 passes) | %.2f | %.1f | %.1f |\n", m * 1e6, p * 1e6,
           w * 1e6);
    printf("| share of the block's budget | %.1f %% | %.1f %% | %.1f %% |\n", 100 * m / budget,
           100 * p / budget, 100 * w / budget);
    free(t);
    free2(in);
    free2(out);
    return 0;
}

/*
 * Stress: `calls` run() calls of random block sizes (mostly short), in place or not,
 * with random control changes and bursts of NaN, Inf and denormal input. No
 * allocation, no non-finite output, a constant latency; afterwards the plugin
 * still marks correctly.
 */
static int stress(const float *x, size_t n, double rate, long calls)
{
    enum { MAXB = 8192 };
    static float in[2][MAXB], out[2][MAXB];
    unsigned seed = 777;
    inst I;
    inst_new(&I, "urn:provmark:stereo", rate, MODE_SYNC);
    clear_control(&I);
    long nonfinite = 0, latency_changes = 0;
    int latency = -1;
    allocs = io_calls = lock_calls = log_in_run = 0;
    float *pin[2] = {in[0], in[1]}, *pout[2] = {out[0], out[1]};
    for (long k = 0; k < calls; k++) {
        unsigned r = (unsigned)rand_r(&seed) % 100;
        size_t b = r < 70 ? 1 + (size_t)rand_r(&seed) % 64
                 : r < 95 ? 65 + (size_t)rand_r(&seed) % 960 : 1025 + (size_t)rand_r(&seed) % (MAXB - 1024);
        size_t at = (size_t)rand_r(&seed) % (n - b);
        for (int c = 0; c < 2; c++)
            for (size_t i = 0; i < b; i++)
                in[c][i] = x[2 * (at + i) + (size_t)c];
        if (rand_r(&seed) % 100 == 0) { /* a burst of hostile samples */
            static const float bad[] = {NAN, INFINITY, -INFINITY, 1e-40f, -1e-42f, 3e38f};
            for (int j = 0; j < 16; j++)
                in[rand_r(&seed) % 2][(size_t)rand_r(&seed) % b] = bad[rand_r(&seed) % 6];
        }
        if (k % 1000 == 999) { /* controls move, as automation would */
            I.ctl[PM_PORT_MODEL] = (float)(rand_r(&seed) % 16777216);
            I.ctl[PM_PORT_DATASET] = (float)(rand_r(&seed) % 16777216);
            I.ctl[PM_PORT_STRENGTH] = (float)(rand_r(&seed) % 400) / 100.0f;
            I.ctl[PM_PORT_ENABLED] = (float)(rand_r(&seed) % 4 != 0);
        }
        const int in_place = rand_r(&seed) % 2;
        run_block(&I, pin, in_place ? pin : pout, 0, (uint32_t)b);
        for (int c = 0; c < 2; c++) {
            const float *o = in_place ? in[c] : out[c];
            for (size_t i = 0; i < b; i++)
                nonfinite += !isfinite(o[i]);
        }
        if (latency < 0)
            latency = (int)I.ctl[PM_PORT_LATENCY];
        latency_changes += (int)I.ctl[PM_PORT_LATENCY] != latency;
    }
    char name[160];
    printf("stress: %ld run() calls, random blocks 1..8192, in place or not, %ld bad output samples\n",
           calls, nonfinite);
    if (INTERPOSED) {
        snprintf(name, sizeof name, "stress: no allocation, stdio, file or lock call in %ld run() calls", calls);
        check(name, allocs == 0 && io_calls == 0 && lock_calls == 0);
    }
    snprintf(name, sizeof name, "stress: no NaN or Inf out of %ld calls with NaN/Inf/denormal bursts in", calls);
    check(name, nonfinite == 0);
    check("stress: latency constant over every call", latency > 0 && latency_changes == 0);

    /* Then 30 s of music with fixed IDs: the mark must be right. */
    I.ctl[PM_PORT_MODEL] = 1234, I.ctl[PM_PORT_DATASET] = 4321;
    I.ctl[PM_PORT_STRENGTH] = 1, I.ctl[PM_PORT_ENABLED] = 1;
    const size_t len = (size_t)(30 * rate) < n ? (size_t)(30 * rate) : n;
    float **qin = planar(x, len, 2, 0), **qout = planar(x, 0, 2, len);
    process(&I, qin, qout, len, &seed, 512);
    pm_key demo;
    pm_key_demo(&demo);
    const size_t skip = (size_t)(6 * rate); /* the IDs change at a payload boundary */
    check("stress: afterwards the plugin still marks 1234/4321",
          detected(qout, skip, len, rate, &demo, 1234, 4321));
    free2(qin);
    free2(qout);
    inst_free(&I);
    return failures ? 1 : 0;
}

/* Run silence through until the plugin's key state leaves "loading"; the state or -1. */
static int settle(inst *I, size_t max_frames)
{
    static float z[2][256], o[2][256];
    float *zin[2] = {z[0], z[1]}, *zout[2] = {o[0], o[1]};
    for (size_t done = 0; done < max_frames; done += 256) {
        run_block(I, zin, zout, 0, 256);
        if ((int)I->ctl[PM_PORT_KEY_STATE] != PM_KEY_LOADING)
            return (int)I->ctl[PM_PORT_KEY_STATE];
        wait_worker(I);
    }
    return -1;
}

/*
 * A key chosen by patch:Set in one way of hosting the worker: it is loaded, used (the output
 * is detected with it and not with the demo key) and reported; a missing key passes the audio
 * through unmarked and reports "failed".
 */
static void key_tests(int mode, const float *x, size_t n, double rate, const char *keyfile,
                      const pm_key *key)
{
    const pm_key *demo_key = NULL;
    pm_key demo;
    pm_key_demo(&demo);
    demo_key = &demo;
    char fp[17], name[200], want[64];
    pm_key_fingerprint(key, fp);
    snprintf(want, sizeof want, "loaded: key %s", fp);
    const char *m = mode_name[mode];
    float **in = planar(x, n, 2, 0), **out = planar(x, 0, 2, n);
    unsigned seed = 99;

    inst I;
    inst_new(&I, "urn:provmark:stereo", rate, mode);
    clear_control(&I);
    send_key(&I, keyfile);
    allocs = io_calls = lock_calls = log_in_run = 0;
    process(&I, in, out, n, &seed, 256);
    snprintf(name, sizeof name, "%s worker: patch:Set key reported loaded (key_state %d, \"%s\")", m,
             (int)I.ctl[PM_PORT_KEY_STATE], I.status);
    check(name, (int)I.ctl[PM_PORT_KEY_STATE] == PM_KEY_LOADED && !strcmp(I.status, want) &&
                    !strcmp(I.key, keyfile));
    snprintf(name, sizeof name, "%s worker: output detected with the chosen key (7/42)", m);
    check(name, detected(out, 0, n, rate, key, 7, 42));
    snprintf(name, sizeof name, "%s worker: output not detected with the demo key", m);
    check(name, !detected(out, 0, n, rate, demo_key, 7, 42));
    if (INTERPOSED) {
        snprintf(name, sizeof name, "%s worker: no allocation, stdio, lock or non-Trace log in run()", m);
        check(name, allocs == 0 && io_calls == 0 && lock_calls == 0 && log_in_run == 0);
    }
    inst_free(&I);

    inst J;
    inst_new(&J, "urn:provmark:stereo", rate, mode);
    clear_control(&J);
    /* A path with a newline, ESC, BEL and a UTF-8 CSI: kept as the key, shown without them. */
    static const char hostile[] = "/nonexistent/provmark/\n\033[2J\007\xc2\x9bmissing.key";
    send_key(&J, hostile);
    int lat = process(&J, in, out, n, &seed, 256);
    snprintf(name, sizeof name, "%s worker: missing key reported failed, its path printable (key_state %d, \"%s\")",
             m, (int)J.ctl[PM_PORT_KEY_STATE], J.status);
    check(name, (int)J.ctl[PM_PORT_KEY_STATE] == PM_KEY_FAILED && !strncmp(J.status, "failed: ", 8) &&
                    strstr(J.status, "/nonexistent/provmark/??[2J???missing.key") && !strcmp(J.key, hostile));
    snprintf(name, sizeof name, "%s worker: missing key: the audio passes unmarked, delayed by the latency", m);
    check(name, (int)J.ctl[PM_PORT_EMBEDDING] == 0 && passes(in, out, 2, n, lat));
    inst_free(&J);
    free2(in);
    free2(out);
}

/* A key file at a path of ~3000 bytes: the message is bigger than 3 KB but fits jalv's queue. */
static int long_path_key(const char *keyfile, char *out, size_t cap)
{
    size_t len = (size_t)snprintf(out, cap, "build/test-plugin/long");
    mkdir(out, 0755);
    while (len < 2900) {
        len += (size_t)snprintf(out + len, cap - len, "/%0200d", 0);
        if (mkdir(out, 0755) != 0 && errno != EEXIST)
            return 0;
    }
    snprintf(out + len, cap - len, "/k.key");
    unlink(out);
    char abs[PATH_MAX];
    return realpath(keyfile, abs) && symlink(abs, out) == 0;
}

/* Save with a key, lose the key, restore: nothing marked, "failed", the path kept through a
 * second save; a moved session folder finds the key where it was. */
static void state_tests(const float *x, size_t n, double rate, const char *keyfile, const pm_key *key)
{
    char copy[256], abs[PATH_MAX];
    snprintf(session, sizeof session, "%s/build/test-plugin/session", getcwd(abs, sizeof abs));
    mkdir(session, 0755);
    snprintf(copy, sizeof copy, "%s/build/test-plugin/chosen.key", abs);
    unlink(copy);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", keyfile, copy);
    if (system(cmd) != 0)
        return;
    float **in = planar(x, n, 2, 0), **out = planar(x, 0, 2, n);
    unsigned seed = 5;
    const LV2_Feature *sf[] = {&f_map, &f_mp, NULL};

    inst I;
    inst_new(&I, "urn:provmark:stereo", rate, MODE_THREAD);
    clear_control(&I);
    send_key(&I, copy);
    settle(&I, (size_t)(10 * rate));
    const LV2_State_Interface *st = lilv_instance_get_extension_data(I.li, LV2_STATE__interface);
    n_saved = 0;
    check("state: saved with the key through mapPath, and its location",
          st->save(lilv_instance_get_handle(I.li), store, NULL, 0, sf) == LV2_STATE_SUCCESS &&
              saved_text("urn:provmark:key") && !strcmp(saved_text("urn:provmark:key"), "chosen.key") &&
              saved_text("urn:provmark:keyOrigin") && !strcmp(saved_text("urn:provmark:keyOrigin"), copy));
    inst_free(&I);

    /* The session moves: its link is gone, the key is where it was. */
    char moved[1100];
    snprintf(moved, sizeof moved, "%s.moved", session);
    snprintf(session, sizeof session, "%s", moved);
    mkdir(session, 0755);
    inst K;
    inst_new(&K, "urn:provmark:stereo", rate, MODE_THREAD);
    clear_control(&K);
    st = lilv_instance_get_extension_data(K.li, LV2_STATE__interface);
    st->restore(lilv_instance_get_handle(K.li), retrieve, NULL, 0, sf);
    process(&K, in, out, n, &seed, 1024);
    check("state: moved session restores the key from where it was (loaded, detected)",
          (int)K.ctl[PM_PORT_KEY_STATE] == PM_KEY_LOADED && detected(out, 0, n, rate, key, 7, 42));
    inst_free(&K);

    unlink(copy); /* the key file goes missing */
    inst J;
    inst_new(&J, "urn:provmark:stereo", rate, MODE_THREAD);
    clear_control(&J);
    st = lilv_instance_get_extension_data(J.li, LV2_STATE__interface);
    check("state: restore with a missing key succeeds (the reference is restored)",
          st->restore(lilv_instance_get_handle(J.li), retrieve, NULL, 0, sf) == LV2_STATE_SUCCESS);
    int lat = process(&J, in, out, n, &seed, 1024);
    char name[300];
    snprintf(name, sizeof name, "state: missing key reported failed on key_state and notify (\"%s\")", J.status);
    check(name, (int)J.ctl[PM_PORT_KEY_STATE] == PM_KEY_FAILED && !strncmp(J.status, "failed: ", 8));
    check("state: missing key: audio passes unmarked (not the demo key), delayed by the latency",
          passes(in, out, 2, n, lat));
    n_saved = 0;
    st->save(lilv_instance_get_handle(J.li), store, NULL, 0, sf);
    check("state: saving again keeps the key's path and location",
          saved_text("urn:provmark:keyOrigin") && !strcmp(saved_text("urn:provmark:keyOrigin"), copy) &&
              saved_text("urn:provmark:key"));
    inst_free(&J);
    free2(in);
    free2(out);
}

/* lilv's save, as hosts do it: links to outside files in `links`, the state in `dir`. */
static int lilv_save(inst *I, const char *links, const char *dir)
{
    LilvState *st = lilv_state_new_from_instance(plugin_of("urn:provmark:stereo"), I->li, &map, NULL,
                                                 links, links, dir, NULL, NULL, LV2_STATE_IS_POD, NULL);
    int ok = st && lilv_state_save(world, &map, &unmap, st, NULL, dir, "state.ttl") == 0;
    lilv_state_free(st);
    return ok;
}
/* A new instance restored by lilv from a saved state file, run until its key settles. */
static void lilv_restored(inst *I, double rate, const char *file)
{
    inst_new(I, "urn:provmark:stereo", rate, MODE_THREAD);
    clear_control(I);
    LilvState *st = lilv_state_new_from_file(world, &map, NULL, file);
    if (st)
        lilv_state_restore(st, I->li, NULL, NULL, 0, NULL);
    lilv_state_free(st);
    settle(I, (size_t)(10 * rate));
}

/* The same through lilv's own state functions (what jalv and Ardour use, with their links
 * into the session): save; the key goes missing; restore, save again; the key returns. */
static void lilv_state_tests(double rate, const char *keyfile)
{
    char cwd[PATH_MAX], dir[PATH_MAX + 64], key[PATH_MAX + 64], cmd[3 * PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return;
    snprintf(dir, sizeof dir, "%s/build/test-plugin/lilv", cwd);
    snprintf(key, sizeof key, "%s/build/test-plugin/lilv-chosen.key", cwd);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.moved' && mkdir -p '%s/externals' && cp '%s' '%s'", dir, dir, dir,
             keyfile, key);
    if (system(cmd) != 0)
        return;
    char save1[PATH_MAX + 80], save2[PATH_MAX + 80], links[PATH_MAX + 80], file[PATH_MAX + 100];
    snprintf(save1, sizeof save1, "%s/state1", dir);
    snprintf(save2, sizeof save2, "%s/state2", dir);
    snprintf(links, sizeof links, "%s/externals", dir);

    inst I;
    inst_new(&I, "urn:provmark:stereo", rate, MODE_THREAD);
    clear_control(&I);
    send_key(&I, key);
    settle(&I, (size_t)(10 * rate));
    check("lilv state: saved with the chosen key", lilv_save(&I, links, save1));
    inst_free(&I);

    unlink(key); /* the key goes missing */
    snprintf(file, sizeof file, "%s/state.ttl", save1);
    inst J;
    lilv_restored(&J, rate, file);
    check("lilv state: restored with the key missing: failed, nothing marked",
          (int)J.ctl[PM_PORT_KEY_STATE] == PM_KEY_FAILED && (int)J.ctl[PM_PORT_EMBEDDING] == 0);
    int ok = lilv_save(&J, links, save2);
    inst_free(&J);
    snprintf(cmd, sizeof cmd, "grep -q 'urn:provmark:key' '%s/state.ttl' && grep -q '%s' '%s/state.ttl'",
             save2, key, save2);
    check("lilv state: saving again keeps the key reference and its location", ok && system(cmd) == 0);

    /* The key comes back; the session folder is copied two levels deeper, where its relative
     * links lead nowhere: the key's saved location is used. */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && mkdir -p '%s.moved/a/b' && cp -a '%s' '%s.moved/a/b/'",
             keyfile, key, dir, dir, dir);
    ok = system(cmd) == 0;
    snprintf(file, sizeof file, "%s.moved/a/b/lilv/state2/state.ttl", dir);
    inst K;
    lilv_restored(&K, rate, file);
    char name[300];
    snprintf(name, sizeof name, "lilv state: the copied session finds the key again (\"%s\")", K.status);
    snprintf(cmd, sizeof cmd, "test -e '%s.moved/a/b/lilv/state2/lilv-chosen.key'", dir);
    check(name, ok && system(cmd) != 0 && (int)K.ctl[PM_PORT_KEY_STATE] == PM_KEY_LOADED);
    inst_free(&K);
}

/* Instances with a worker thread each load keys in turn, all at once. */
typedef struct keyfile {
    char path[300];
    char fp[17];
} keyfile;
static int parallel(int instances, long loads, const char *dir)
{
    keyfile *kf = calloc((size_t)instances * 2, sizeof *kf);
    for (int i = 0; i < instances * 2; i++) {
        pm_key k;
        snprintf(kf[i].path, sizeof kf[i].path, "%s/p%02d.key", dir, i);
        unlink(kf[i].path);
        if (pm_key_generate(&k) != PM_OK || pm_key_save(&k, kf[i].path) != PM_OK)
            return 2;
        pm_key_fingerprint(&k, kf[i].fp);
    }
    inst *I = calloc((size_t)instances, sizeof *I);
    for (int i = 0; i < instances; i++) {
        inst_new(&I[i], "urn:provmark:stereo", 44100, MODE_THREAD);
        clear_control(&I[i]);
    }
    static float z[2][64], o[2][64];
    float *zin[2] = {z[0], z[1]}, *zout[2] = {o[0], o[1]};
    long *done = calloc((size_t)instances, sizeof *done), wrong = 0, stuck = 0, answers = 0;
    long *sent_at = calloc((size_t)instances, sizeof *sent_at);
    int *waiting = calloc((size_t)instances, sizeof *waiting);
    for (long round = 0, active = instances; active > 0; round++) {
        active = 0;
        for (int i = 0; i < instances; i++) {
            if (done[i] == loads)
                continue;
            active++;
            const keyfile *want = &kf[2 * i + done[i] % 2];
            if (!waiting[i]) {
                send_key(&I[i], want->path);
                I[i].status[0] = '\0';
                waiting[i] = 1;
                sent_at[i] = round;
            }
            run_block(&I[i], zin, zout, 0, 64);
            /* Rounds run ~40 times faster than real time: after 2 s of this instance's audio
             * without an answer, its worker is waited for (wait_worker), before the plugin's
             * PM_KEY_TIMEOUT_SECONDS of audio run out on a machine that has not run it. */
            if (round - sent_at[i] > 2 * 44100 / 64)
                wait_worker(&I[i]);
            /* The answer: "loading: key FP, ..." once the worker has loaded it. */
            const char *fp = !strncmp(I[i].status, "loading: key ", 13) ? I[i].status + 13
                           : !strncmp(I[i].status, "loaded: key ", 12)  ? I[i].status + 12
                                                                        : NULL;
            if (fp || !strncmp(I[i].status, "failed", 6)) {
                answers++;
                const int bad = !fp || strncmp(fp, want->fp, 16) != 0 || strcmp(I[i].key, want->path) != 0;
                if (bad && !wrong) /* the first wrong answer, for the failure's diagnosis */
                    fprintf(stderr, "parallel: instance %d wanted %s (%s), got \"%s\" for %s\n", i, want->fp,
                            want->path, I[i].status, I[i].key);
                wrong += bad;
                waiting[i] = 0;
                done[i]++;
            } else if (round - sent_at[i] > 200000) {
                stuck++;
                waiting[i] = 0;
                done[i]++;
            }
        }
    }
    char name[200];
    snprintf(name, sizeof name, "parallel: %d instances x %ld key loads in their own worker threads: "
             "%ld answers, %ld wrong keys, %ld unanswered", instances, loads, answers, wrong, stuck);
    check(name, answers == instances * loads && wrong == 0 && stuck == 0);
    for (int i = 0; i < instances; i++)
        inst_free(&I[i]);
    free(I);
    free(kf);
    free(done);
    free(sent_at);
    free(waiting);
    return failures ? 1 : 0;
}

/* The TTL as lilv reads it: ID steps, the latency range, the key_state enumeration. */
static float port_float(const LilvPlugin *p, const char *symbol, const char *pred_uri)
{
    LilvNode *s = lilv_new_string(world, symbol), *pred = lilv_new_uri(world, pred_uri);
    const LilvPort *pt = lilv_plugin_get_port_by_symbol(p, s);
    LilvNode *v = pt ? lilv_port_get(p, pt, pred) : NULL;
    float f = v && lilv_node_is_int(v) ? (float)lilv_node_as_int(v) : v ? lilv_node_as_float(v) : NAN;
    lilv_node_free(v);
    lilv_node_free(s);
    lilv_node_free(pred);
    return f;
}
static void ttl_checks(const char *uri)
{
    const LilvPlugin *p = plugin_of(uri);
    char name[200];
    const char *steps = "http://lv2plug.in/ns/ext/port-props#rangeSteps";
    snprintf(name, sizeof name, "%s TTL: IDs step by one (rangeSteps %.0f over 0..%d)", uri,
             port_float(p, "model_id", steps), PM_ID_MAX);
    check(name, port_float(p, "model_id", steps) == PM_ID_MAX + 1.0f &&
                    port_float(p, "dataset_id", steps) == PM_ID_MAX + 1.0f &&
                    port_float(p, "model_id", LV2_CORE__maximum) == (float)PM_ID_MAX);
    pm_embedder *e;
    pm_key demo;
    pm_key_demo(&demo);
    float lat_max = port_float(p, "latency", LV2_CORE__maximum);
    int ok = pm_embedder_new(&e, PM_MAX_RATE, 1, &demo, 0, 0, 1.0f) == PM_OK &&
             lat_max == (float)pm_embedder_latency(e);
    snprintf(name, sizeof name, "%s TTL: latency maximum %.0f = the latency at %.0f Hz", uri, lat_max,
             (double)PM_MAX_RATE);
    check(name, ok);
    pm_embedder_free(e);
    static const char *const labels[] = {"demo", "loaded", "failed", "loading"};
    static const int values[] = {PM_KEY_DEMO, PM_KEY_LOADED, PM_KEY_FAILED, PM_KEY_LOADING};
    LilvNode *s = lilv_new_string(world, "key_state");
    LilvScalePoints *sp = lilv_port_get_scale_points(p, lilv_plugin_get_port_by_symbol(p, s));
    int found = 0;
    LILV_FOREACH (scale_points, i, sp) {
        const LilvScalePoint *pt = lilv_scale_points_get(sp, i);
        for (int k = 0; k < 4; k++)
            found += !strcmp(lilv_node_as_string(lilv_scale_point_get_label(pt)), labels[k]) &&
                     lilv_node_as_float(lilv_scale_point_get_value(pt)) == (float)values[k];
    }
    snprintf(name, sizeof name, "%s TTL: key_state enumeration demo/loaded/failed/loading = the plugin's values", uri);
    check(name, found == 4 && lilv_scale_points_size(sp) == 4);
    lilv_scale_points_free(sp);
    lilv_node_free(s);
}

static void setup(void)
{
    int32_t *blk = malloc(2 * sizeof *blk);
    blk[0] = min_block, blk[1] = max_block;
    options[0] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__minBlockLength), sizeof(int32_t), map_uri(NULL, LV2_ATOM__Int), &blk[0]};
    options[1] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__maxBlockLength), sizeof(int32_t), map_uri(NULL, LV2_ATOM__Int), &blk[1]};
    options[2] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL};
    urid_trace = map_uri(NULL, LV2_LOG__Trace);
    urid_error = map_uri(NULL, LV2_LOG__Error);
    urid_patch_set = map_uri(NULL, LV2_PATCH__Set);
    urid_patch_property = map_uri(NULL, LV2_PATCH__property);
    urid_patch_value = map_uri(NULL, LV2_PATCH__value);
    urid_key = map_uri(NULL, "urn:provmark:key");
    urid_key_status = map_uri(NULL, "urn:provmark:keyStatus");
    if (INTERPOSED) { /* the plugin's calls resolve as dlsym(RTLD_DEFAULT) does: to these */
        void *(*m)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "malloc");
        int (*vf)(FILE *, const char *, va_list) = (int (*)(FILE *, const char *, va_list))dlsym(RTLD_DEFAULT, "vfprintf");
        size_t (*fw)(const void *, size_t, size_t, FILE *) = (size_t (*)(const void *, size_t, size_t, FILE *))dlsym(RTLD_DEFAULT, "fwrite");
        int (*lk)(pthread_mutex_t *) = (int (*)(pthread_mutex_t *))dlsym(RTLD_DEFAULT, "pthread_mutex_lock");
        pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        armed = 1;
        free(m(1));
        fw("", 1, 0, stderr);
        lk(&mu);
        armed = 0;
        pthread_mutex_unlock(&mu);
        check("interposer sees malloc, stdio and lock calls made through the dynamic linker",
              vf == vfprintf && allocs == 1 && io_calls == 1 && lock_calls == 1);
    }
    world = lilv_world_new();
    lilv_world_load_all(world);
    check("bundle found", plugin_of("urn:provmark:stereo") && plugin_of("urn:provmark:mono"));
    if (!plugin_of("urn:provmark:stereo") || !plugin_of("urn:provmark:mono"))
        exit(2);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* results survive an abort by a sanitizer */
    const int bench_mode = argc == 3 && !strcmp(argv[1], "--bench");
    const int stress_mode = argc == 4 && !strcmp(argv[1], "--stress");
    const int parallel_mode = argc == 5 && !strcmp(argv[1], "--parallel");
    if (argc != 4 && !bench_mode && !parallel_mode) {
        fprintf(stderr, "usage: lv2host IN.wav KEYFILE OUT.wav | --bench IN.wav | --stress CALLS IN.wav"
                        " | --parallel INSTANCES LOADS DIR\n");
        return 2;
    }
    setup();
    if (parallel_mode) {
        int rc = parallel(atoi(argv[2]), atol(argv[3]), argv[4]);
        lilv_world_free(world);
        return rc;
    }

    SF_INFO info = {0};
    SNDFILE *f = sf_open(argv[bench_mode ? 2 : stress_mode ? 3 : 1], SFM_READ, &info);
    if (!f || info.channels != 2)
        return 2;
    size_t n = (size_t)info.frames;
    float *x = malloc(sizeof(float) * n * 2);
    sf_readf_float(f, x, info.frames);
    sf_close(f);
    if (stress_mode) {
        int rc = stress(x, n, info.samplerate, atol(argv[2]));
        free(x);
        lilv_world_free(world);
        return rc;
    }
    if (bench_mode) {
        int rc = bench(x, n, info.samplerate);
        free(x);
        lilv_world_free(world);
        return rc;
    }
    pm_key demo, key;
    pm_key_demo(&demo);
    if (pm_key_load(&key, argv[2]) != PM_OK)
        return 2;
    unsigned seed = 12345;

    /* Random block sizes, out of place, demo key: bit-identical to the library. */
    const double rates[] = {44100, 48000, 96000};
    for (int r = 0; r < 3; r++) {
        float **in = planar(x, n, 2, 0), **out = planar(x, 0, 2, n);
        inst I;
        inst_new(&I, "urn:provmark:stereo", rates[r], MODE_SYNC);
        clear_control(&I);
        allocs = io_calls = lock_calls = log_in_run = 0;
        int lat = process(&I, in, out, n, &seed, 0);
        float **ref = reference(in, n, 2, rates[r], &demo);
        char name[120];
        snprintf(name, sizeof name, "random blocks 1..8192 = library at %.0f Hz", rates[r]);
        check(name, same(ref, out, 2, n, 0));
        snprintf(name, sizeof name, "latency port = library latency at %.0f Hz (%d)", rates[r], lat);
        pm_embedder *e;
        check(name, pm_embedder_new(&e, rates[r], 2, &demo, 0, 0, 1.0f) == PM_OK &&
                        lat == (int)pm_embedder_latency(e) && lat > 0);
        pm_embedder_free(e);
        snprintf(name, sizeof name, "demo key reported (key_state demo, \"%.40s\")", I.status);
        check(name, (int)I.ctl[PM_PORT_KEY_STATE] == PM_KEY_DEMO && !strncmp(I.status, "demo key", 8) &&
                        I.key[0] == '\0');
        free2(in);
        free2(out);
        free2(ref);
        if (INTERPOSED) {
            snprintf(name, sizeof name, "no allocation, stdio, file, lock or non-Trace log in run() at %.0f Hz", rates[r]);
            check(name, allocs == 0 && io_calls == 0 && lock_calls == 0 && log_in_run == 0);
        }
        inst_free(&I);
    }

    /* In place: input and output ports on the same buffers. */
    {
        float **io = planar(x, n, 2, 0), **in = planar(x, n, 2, 0);
        inst I;
        inst_new(&I, "urn:provmark:stereo", info.samplerate, MODE_SYNC);
        clear_control(&I);
        process(&I, io, io, n, &seed, 0);
        float **ref = reference(in, n, 2, info.samplerate, &demo);
        check("in-place processing = library", same(ref, io, 2, n, 0));
        inst_free(&I);
        free2(io);
        free2(in);
        free2(ref);
    }

    /* Mono plugin on the left channel. */
    {
        float **in = planar(x, n, 2, 0), **out = planar(x, 0, 2, n);
        inst I;
        inst_new(&I, "urn:provmark:mono", info.samplerate, MODE_SYNC);
        clear_control(&I);
        process(&I, in, out, n, &seed, 0);
        pm_embedder *e;
        float *ref = calloc(n, sizeof(float));
        int ok = pm_embedder_new(&e, info.samplerate, 1, &demo, 7, 42, 1.0f) == PM_OK &&
                 pm_embedder_process_planar(e, (const float *const *)in, &ref, n) == PM_OK;
        pm_embedder_free(e);
        check("mono plugin = library", ok && memcmp(ref, out[0], sizeof(float) * n) == 0);
        inst_free(&I);
        free(ref);
        free2(in);
        free2(out);
    }

    /* NaN, infinities and denormals in: finite out, never past full scale. */
    {
        float **in = planar(x, n, 2, 0), **out = planar(x, 0, 2, n);
        for (size_t i = 0; i < n; i += 997) {
            in[0][i] = NAN;
            in[1][i] = (i / 997) % 2 ? INFINITY : -INFINITY;
            if (i + 1 < n)
                in[0][i + 1] = 1e-42f;
        }
        inst I;
        inst_new(&I, "urn:provmark:stereo", info.samplerate, MODE_SYNC);
        clear_control(&I);
        process(&I, in, out, n, &seed, 0);
        int ok = 1;
        for (int c = 0; c < 2; c++)
            for (size_t i = 0; i < n; i++)
                ok &= isfinite(out[c][i]) && fabsf(out[c][i]) <= 1.0f;
        check("NaN/Inf/denormal input gives finite output", ok);
        inst_free(&I);
        free2(in);
        free2(out);
    }

    /* Key through patch:Set (worker), then state save -> new instance -> restore. */
    {
        float **in = planar(x, n, 2, 0), **out = planar(x, 0, 2, n), **out2 = planar(x, 0, 2, n);
        inst I;
        inst_new(&I, "urn:provmark:stereo", info.samplerate, MODE_SYNC);
        clear_control(&I);
        send_key(&I, argv[2]);
        process(&I, in, out, n, &seed, 1024);
        /* The key is used from a payload period's start on: the first, where the worker
         * answers before the first frame is marked (a sync worker), else a later one. */
        float **ref = reference(in, n, 2, info.samplerate, &key);
        size_t from = (size_t)(4.0 * info.samplerate);
        int ok = 1;
        for (int c = 0; c < 2; c++)
            ok &= memcmp(ref[c] + from, out[c] + from, sizeof(float) * (n - from)) == 0;
        check("key file via patch:Set and worker = library with the key", ok);
        check("until the chosen key is in use nothing is marked (no demo-key mark): the first second is "
              "the input or the library's output with the key",
              passes(in, out, 2, (size_t)info.samplerate, (int)I.ctl[PM_PORT_LATENCY]) ||
                  same(ref, out, 2, (size_t)info.samplerate, 0));
        const LV2_State_Interface *st = lilv_instance_get_extension_data(I.li, LV2_STATE__interface);
        const LV2_Feature *sf[] = {&f_map, NULL};
        n_saved = 0;
        check("state save", st && st->save(lilv_instance_get_handle(I.li), store, NULL, 0, sf) == LV2_STATE_SUCCESS && n_saved == 2);
        inst_free(&I);

        inst J;
        inst_new(&J, "urn:provmark:stereo", info.samplerate, MODE_SYNC);
        clear_control(&J);
        st = lilv_instance_get_extension_data(J.li, LV2_STATE__interface);
        check("state restore", st->restore(lilv_instance_get_handle(J.li), retrieve, NULL, 0, sf) == LV2_STATE_SUCCESS);
        process(&J, in, out2, n, &seed, 0);
        check("restored instance = library with the key", same(ref, out2, 2, n, 0));
        inst_free(&J);

        SF_INFO oi = {.samplerate = info.samplerate, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
        SNDFILE *o = sf_open(argv[3], SFM_WRITE, &oi);
        for (size_t i = 0; i < n; i++) {
            float fr[2] = {out2[0][i], out2[1][i]};
            sf_writef_float(o, fr, 1);
        }
        sf_close(o);
        free2(in);
        free2(out);
        free2(out2);
        free2(ref);
    }

    ttl_checks("urn:provmark:stereo");
    ttl_checks("urn:provmark:mono");

    /* Key choice in every way of hosting the worker. */
    for (int mode = MODE_SYNC; mode <= MODE_THREAD; mode++)
        key_tests(mode, x, n, info.samplerate, argv[2], &key);
    {
        char path[4096];
        inst I;
        inst_new(&I, "urn:provmark:stereo", info.samplerate, MODE_JALV);
        clear_control(&I);
        int made = long_path_key(argv[2], path, sizeof path);
        send_key(&I, path);
        char name[160];
        snprintf(name, sizeof name, "jalv worker: key at a %zu-byte path loads (4096-byte queue)", strlen(path));
        check(name, made && settle(&I, (size_t)(10 * info.samplerate)) == PM_KEY_LOADED && I.w.dropped == 0);
        inst_free(&I);
    }
    {
        /* A host that drops the request without a word: "failed" after a while, never the demo key. */
        float **in = planar(x, n, 2, 0), **out = planar(x, 0, 2, n);
        inst I;
        inst_new(&I, "urn:provmark:stereo", info.samplerate, MODE_DROP);
        clear_control(&I);
        send_key(&I, argv[2]);
        settle(&I, (size_t)(60 * info.samplerate)); /* until the plugin gives up waiting */
        int lat = process(&I, in, out, n, &seed, 512);
        char name[200];
        snprintf(name, sizeof name, "dropped request: reported failed (\"%s\"), audio unmarked", I.status);
        check(name, I.w.dropped == 1 && (int)I.ctl[PM_PORT_KEY_STATE] == PM_KEY_FAILED &&
                        passes(in, out, 2, n, lat));
        inst_free(&I);
        free2(in);
        free2(out);
    }
    state_tests(x, n, info.samplerate, argv[2], &key);
    lilv_state_tests(info.samplerate, argv[2]);
    free(x);
    for (int i = 0; i < n_uris; i++)
        free(uris[i]);
    lilv_world_free(world);
    return failures ? 1 : 0;
}
