/*
 * A small LV2 host on lilv that checks the provmark plugin as hosts use it.
 * usage: lv2host IN.wav KEYFILE OUT.wav
 * Prints "ok NAME" / "FAIL NAME" lines; OUT.wav is the plugin's output (model 7,
 * dataset 42, the given key) for the caller to encode and detect.
 *        lv2host --bench IN.wav
 * Prints the CPU cost of run() on IN.wav at block sizes 32, 256 and 4096.
 */
#define _GNU_SOURCE
#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>
#include <math.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "provmark.h"
#include "timing.h"

/* ---- allocation counter (armed only around run(); AddressSanitizer owns malloc) ---- */
static int armed;
static long allocs;
#if defined(__SANITIZE_ADDRESS__)
#define COUNTS_ALLOCATIONS 0
#else
#define COUNTS_ALLOCATIONS 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
void *malloc(size_t n) { allocs += armed; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { allocs += armed; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { allocs += armed; return __libc_realloc(p, n); }
#endif

static int failures;
static void check(const char *name, int ok)
{
    printf("%s %s\n", ok ? "ok" : "FAIL", name);
    failures += !ok;
}

/* ---- urid map ---- */
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

static int log_printf(LV2_Log_Handle h, LV2_URID type, const char *fmt, ...)
{
    (void)h, (void)type, (void)fmt;
    return 0;
}
static int log_vprintf(LV2_Log_Handle h, LV2_URID type, const char *fmt, va_list ap)
{
    (void)h, (void)type, (void)fmt, (void)ap;
    return 0;
}
static LV2_Log_Log logger = {NULL, log_printf, log_vprintf};

/* ---- worker: jobs run right after run(), responses before the next run() ---- */
typedef struct worker {
    const LV2_Worker_Interface *iface;
    LV2_Handle handle;
    unsigned char jobs[4][8192];
    uint32_t job_size[4];
    int n_jobs;
    unsigned char resp[4][8192];
    uint32_t resp_size[4];
    int n_resp;
} worker;
static worker W;
static LV2_Worker_Status schedule(LV2_Worker_Schedule_Handle h, uint32_t size, const void *data)
{
    (void)h;
    if (W.n_jobs == 4 || size > 8192)
        return LV2_WORKER_ERR_NO_SPACE;
    memcpy(W.jobs[W.n_jobs], data, size);
    W.job_size[W.n_jobs++] = size;
    return LV2_WORKER_SUCCESS;
}
static LV2_Worker_Status respond(LV2_Worker_Respond_Handle h, uint32_t size, const void *data)
{
    (void)h;
    if (W.n_resp == 4 || size > 8192)
        return LV2_WORKER_ERR_NO_SPACE;
    memcpy(W.resp[W.n_resp], data, size);
    W.resp_size[W.n_resp++] = size;
    return LV2_WORKER_SUCCESS;
}
static void run_worker(void)
{
    while (W.n_jobs) { /* jobs may schedule more jobs (frees) */
        unsigned char job[8192];
        uint32_t size = W.job_size[0];
        memcpy(job, W.jobs[0], size);
        memmove(W.jobs, W.jobs + 1, sizeof W.jobs[0] * (size_t)(W.n_jobs - 1));
        memmove(W.job_size, W.job_size + 1, sizeof W.job_size[0] * (size_t)(W.n_jobs - 1));
        W.n_jobs--;
        W.iface->work(W.handle, respond, NULL, size, job);
    }
}
static void deliver_responses(void)
{
    for (int i = 0; i < W.n_resp; i++)
        W.iface->work_response(W.handle, W.resp_size[i], W.resp[i]);
    W.n_resp = 0;
}
static LV2_Worker_Schedule sched = {NULL, schedule};

/* ---- state: properties kept in memory, paths mapped as they are ---- */
typedef struct prop {
    uint32_t key, type, flags;
    size_t size;
    char value[4096];
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
static char *abstract_path(LV2_State_Map_Path_Handle h, const char *p) { (void)h; return strdup(p); }
static char *absolute_path(LV2_State_Map_Path_Handle h, const char *p) { (void)h; return strdup(p); }
static LV2_State_Map_Path map_path = {NULL, abstract_path, absolute_path};

/* ---- one plugin instance with its ports ---- */
typedef struct inst {
    LilvInstance *li;
    int ch;
    float ctl[16];
    union { /* atom buffers must be 64-bit aligned */
        LV2_Atom_Sequence seq;
        uint64_t align;
        unsigned char buf[8192];
    } control, notify;
} inst;

static LilvWorld *world;
static const LilvPlugin *plugin_of(const char *uri)
{
    LilvNode *u = lilv_new_uri(world, uri);
    const LilvPlugin *p = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), u);
    lilv_node_free(u);
    return p;
}

static int32_t min_block = 1, max_block = 8192;
static LV2_Options_Option options[3];
static LV2_Feature f_map = {LV2_URID__map, &map}, f_unmap = {LV2_URID__unmap, &unmap},
                   f_log = {LV2_LOG__log, &logger}, f_sched = {LV2_WORKER__schedule, &sched},
                   f_opts = {LV2_OPTIONS__options, options},
                   f_mp = {LV2_STATE__mapPath, &map_path},
                   f_bounded = {LV2_BUF_SIZE__boundedBlockLength, NULL};

static void inst_new(inst *I, const char *uri, double rate)
{
    memset(I, 0, sizeof *I);
    const LV2_Feature *features[] = {&f_map, &f_unmap, &f_log, &f_sched, &f_opts, &f_bounded, NULL};
    const LilvPlugin *p = plugin_of(uri);
    I->li = p ? lilv_plugin_instantiate(p, rate, features) : NULL;
    if (!I->li) {
        fprintf(stderr, "lv2host: cannot instantiate %s (is LV2_PATH set?)\n", uri);
        exit(2);
    }
    I->ch = strstr(uri, "mono") ? 1 : 2;
    int base = 2 * I->ch;
    I->ctl[0] = 7, I->ctl[1] = 42, I->ctl[2] = 1, I->ctl[3] = 1;
    for (int c = 0; c < 7; c++)
        lilv_instance_connect_port(I->li, (uint32_t)(base + c), &I->ctl[c]);
    lilv_instance_connect_port(I->li, (uint32_t)base + 7, &I->control);
    lilv_instance_connect_port(I->li, (uint32_t)base + 8, &I->notify);
    W.iface = lilv_instance_get_extension_data(I->li, LV2_WORKER__interface);
    W.handle = lilv_instance_get_handle(I->li);
    lilv_instance_activate(I->li);
}

static void inst_free(inst *I)
{
    lilv_instance_deactivate(I->li);
    lilv_instance_free(I->li);
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
    lv2_atom_forge_object(&forge, &obj, 0, map_uri(NULL, LV2_PATCH__Set));
    lv2_atom_forge_key(&forge, map_uri(NULL, LV2_PATCH__property));
    lv2_atom_forge_urid(&forge, map_uri(NULL, "urn:provmark:key"));
    lv2_atom_forge_key(&forge, map_uri(NULL, LV2_PATCH__value));
    lv2_atom_forge_path(&forge, path, (uint32_t)strlen(path));
    lv2_atom_forge_pop(&forge, &obj);
    lv2_atom_forge_pop(&forge, &seq);
}

static void clear_control(inst *I)
{
    I->control.seq.atom.type = map_uri(NULL, LV2_ATOM__Sequence);
    I->control.seq.atom.size = sizeof(LV2_Atom_Sequence_Body);
    I->control.seq.body.unit = 0;
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
        for (int c = 0; c < I->ch; c++) {
            lilv_instance_connect_port(I->li, (uint32_t)c, in[c] + done);
            lilv_instance_connect_port(I->li, (uint32_t)(I->ch + c), out[c] + done);
        }
        I->notify.seq.atom.size = sizeof I->notify.buf - sizeof(LV2_Atom);
        deliver_responses();
        armed = 1;
        lilv_instance_run(I->li, (uint32_t)b);
        armed = 0;
        clear_control(I);
        run_worker();
        if (latency < 0)
            latency = (int)I->ctl[4];
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
    pm_embedder_new(&e, rate, ch, key, 7, 42, 1.0f);
    float **out = malloc(sizeof *out * 2);
    for (int c = 0; c < 2; c++)
        out[c] = calloc(n, sizeof(float));
    pm_embedder_process_planar(e, (const float *const *)in, out, n);
    pm_embedder_free(e);
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


/* CPU cost of run() at fixed block sizes, median of 5 passes over the file. */
static int bench(float *x, size_t n, double rate)
{
    static const size_t blocks[] = {32, 256, 4096};
    float **in = planar(x, n, 2, 0), **out = planar(x, 0, 2, n);
    printf("| block | x real time | %% of one core |\n|---|---|---|\n");
    for (int b = 0; b < 3; b++) {
        double t[5];
        for (int r = 0; r < 5; r++) {
            inst I;
            inst_new(&I, "urn:provmark:stereo", rate);
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
    inst_new(&I, "urn:provmark:stereo", rate);
    clear_control(&I);
    long nonfinite = 0, latency_changes = 0;
    int latency = -1;
    allocs = 0;
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
            I.ctl[0] = (float)(rand_r(&seed) % 16777216);
            I.ctl[1] = (float)(rand_r(&seed) % 16777216);
            I.ctl[2] = (float)(rand_r(&seed) % 400) / 100.0f;
            I.ctl[3] = (float)(rand_r(&seed) % 4 != 0);
        }
        const int in_place = rand_r(&seed) % 2;
        for (int c = 0; c < 2; c++) {
            lilv_instance_connect_port(I.li, (uint32_t)c, in[c]);
            lilv_instance_connect_port(I.li, (uint32_t)(2 + c), in_place ? in[c] : out[c]);
        }
        I.notify.seq.atom.size = sizeof I.notify.buf - sizeof(LV2_Atom);
        armed = 1;
        lilv_instance_run(I.li, (uint32_t)b);
        armed = 0;
        for (int c = 0; c < 2; c++) {
            const float *o = in_place ? in[c] : out[c];
            for (size_t i = 0; i < b; i++)
                nonfinite += !isfinite(o[i]);
        }
        if (latency < 0)
            latency = (int)I.ctl[4];
        latency_changes += (int)I.ctl[4] != latency;
    }
    char name[160];
    printf("stress: %ld run() calls, random blocks 1..8192, in place or not, %ld bad output samples\n",
           calls, nonfinite);
    if (COUNTS_ALLOCATIONS) {
        snprintf(name, sizeof name, "stress: no allocation in %ld run() calls", calls);
        check(name, allocs == 0);
    }
    snprintf(name, sizeof name, "stress: no NaN or Inf out of %ld calls with NaN/Inf/denormal bursts in", calls);
    check(name, nonfinite == 0);
    check("stress: latency constant over every call", latency > 0 && latency_changes == 0);

    /* Then 30 s of music with fixed IDs: the mark must be right. */
    I.ctl[0] = 1234, I.ctl[1] = 4321, I.ctl[2] = 1, I.ctl[3] = 1;
    const size_t len = (size_t)(30 * rate) < n ? (size_t)(30 * rate) : n;
    float **pin = planar(x, len, 2, 0), **pout = planar(x, 0, 2, len);
    process(&I, pin, pout, len, &seed, 512);
    float *y = malloc(sizeof(float) * len * 2);
    for (size_t i = 0; i < len; i++)
        y[2 * i] = pout[0][i], y[2 * i + 1] = pout[1][i];
    pm_key demo;
    pm_key_demo(&demo);
    pm_detector *d;
    pm_result res;
    const size_t skip = (size_t)(6 * rate); /* the IDs change at a payload boundary */
    pm_detector_new(&d, rate, 2, &demo, 1);
    pm_detector_push_interleaved(d, y + 2 * skip, len - skip);
    pm_detector_finish(d, &res);
    pm_detector_free(d);
    check("stress: afterwards the plugin still marks 1234/4321", res.found && res.model_id == 1234 && res.dataset_id == 4321);
    free(y);
    free2(pin);
    free2(pout);
    inst_free(&I);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* results survive an abort by a sanitizer */
    const int bench_mode = argc == 3 && !strcmp(argv[1], "--bench");
    const int stress_mode = argc == 4 && !strcmp(argv[1], "--stress");
    if (argc != 4 && !bench_mode) {
        fprintf(stderr, "usage: lv2host IN.wav KEYFILE OUT.wav | --bench IN.wav | --stress CALLS IN.wav\n");
        return 2;
    }
    int32_t blk[2] = {min_block, max_block};
    options[0] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__minBlockLength), sizeof(int32_t), map_uri(NULL, LV2_ATOM__Int), &blk[0]};
    options[1] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, map_uri(NULL, LV2_BUF_SIZE__maxBlockLength), sizeof(int32_t), map_uri(NULL, LV2_ATOM__Int), &blk[1]};
    options[2] = (LV2_Options_Option){LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL};
    world = lilv_world_new();
    lilv_world_load_all(world);
    check("bundle found", plugin_of("urn:provmark:stereo") && plugin_of("urn:provmark:mono"));

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
        inst_new(&I, "urn:provmark:stereo", rates[r]);
        clear_control(&I);
        allocs = 0;
        int lat = process(&I, in, out, n, &seed, 0);
        float **ref = reference(in, n, 2, rates[r], &demo);
        char name[96];
        snprintf(name, sizeof name, "random blocks 1..8192 = library at %.0f Hz", rates[r]);
        check(name, same(ref, out, 2, n, 0));
        snprintf(name, sizeof name, "latency port = library latency at %.0f Hz (%d)", rates[r], lat);
        pm_embedder *e;
        pm_embedder_new(&e, rates[r], 2, &demo, 0, 0, 1.0f);
        check(name, lat == (int)pm_embedder_latency(e) && lat > 0);
        pm_embedder_free(e);
        free2(in);
        free2(out);
        free2(ref);
        if (COUNTS_ALLOCATIONS) {
            snprintf(name, sizeof name, "no allocation in run() at %.0f Hz", rates[r]);
            check(name, allocs == 0);
        }
        inst_free(&I);
    }

    /* In place: input and output ports on the same buffers. */
    {
        float **io = planar(x, n, 2, 0), **in = planar(x, n, 2, 0);
        inst I;
        inst_new(&I, "urn:provmark:stereo", info.samplerate);
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
        inst_new(&I, "urn:provmark:mono", info.samplerate);
        clear_control(&I);
        process(&I, in, out, n, &seed, 0);
        pm_embedder *e;
        pm_embedder_new(&e, info.samplerate, 1, &demo, 7, 42, 1.0f);
        float *ref = calloc(n, sizeof(float));
        pm_embedder_process_planar(e, (const float *const *)in, &ref, n);
        pm_embedder_free(e);
        check("mono plugin = library", memcmp(ref, out[0], sizeof(float) * n) == 0);
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
        inst_new(&I, "urn:provmark:stereo", info.samplerate);
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
        inst_new(&I, "urn:provmark:stereo", info.samplerate);
        clear_control(&I);
        send_key(&I, argv[2]);
        process(&I, in, out, n, &seed, 1024);
        /* The key arrives during the first period: compare from the second period on. */
        float **ref = reference(in, n, 2, info.samplerate, &key);
        size_t from = (size_t)(4.0 * info.samplerate);
        int ok = 1;
        for (int c = 0; c < 2; c++)
            ok &= memcmp(ref[c] + from, out[c] + from, sizeof(float) * (n - from)) == 0;
        check("key file via patch:Set and worker", ok);
        const LV2_State_Interface *st = lilv_instance_get_extension_data(I.li, LV2_STATE__interface);
        const LV2_Feature *sf[] = {&f_map, &f_mp, NULL};
        n_saved = 0;
        check("state save", st && st->save(lilv_instance_get_handle(I.li), store, NULL, 0, sf) == LV2_STATE_SUCCESS && n_saved == 1);
        inst_free(&I);

        inst J;
        inst_new(&J, "urn:provmark:stereo", info.samplerate);
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
    free(x);
    for (int i = 0; i < n_uris; i++)
        free(uris[i]);
    lilv_world_free(world);
    return failures ? 1 : 0;
}
