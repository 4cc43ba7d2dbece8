/*
 * The key choice. A key file chosen by the user (patch:Set from the host, or PROVMARK_KEY,
 * or saved state) is loaded in the worker: file I/O and allocation stay out of run(). The
 * request carries the path and nothing more (sized to it, so it fits small host queues); the
 * answer carries one pointer to a result the worker allocated, which run() hands back
 * through a lock-free list for the worker to free. Nothing is shared between instances.
 *
 * The rule this module keeps: the output is marked only with a key the user chose, or with
 * the demo key when no key was ever chosen. From the moment a key is chosen until the
 * embedder is marking with it, and for as long as it cannot be loaded, nothing is marked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

enum { MSG_LOAD = 1 };

/* run() -> worker: this head, then the path's bytes (no NUL). */
typedef struct load_head {
    uint32_t type;
    uint32_t gen;
} load_head;

_Static_assert(sizeof(load_head) + PM_PATH_MAX <= sizeof(((pm_plugin *)0)->msg),
               "the request buffer holds the longest path");

struct pm_loaded {
    pm_loaded *next;      /* in the garbage list */
    uint32_t gen;         /* the request it answers */
    pm_key_schedule *ks;  /* NULL: the key could not be loaded, see status */
    char fingerprint[17];
    char status[PM_STATUS_MAX];
    char path[];
};

/* worker -> run(): only the pointer. */
typedef struct reply {
    pm_loaded *r;
} reply;

/* ------------------------------------------------------------ status lines (no printf) */

/*
 * C0 controls, DEL and the C1 controls of UTF-8 in a status line become '?': a key path
 * (from a session anyone may have written) cannot break the line or send ESC, BEL or CSI
 * to a terminal through the host's log.
 */
static void make_printable(char *s)
{
    for (unsigned char *c = (unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            *c = '?';
        else if (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)
            c[0] = c[1] = '?';
}

/* The status line is a + b + c (b and c may be NULL), cut to fit. */
static void status_set3(pm_plugin *p, pm_key_state state, const char *a, const char *b,
                        const char *c)
{
    const char *part[3] = {a, b, c};
    size_t n = 0;
    for (int i = 0; i < 3; i++)
        for (const char *s = part[i]; s && *s && n + 1 < sizeof p->key_status; s++)
            p->key_status[n++] = *s;
    p->key_status[n] = '\0';
    make_printable(p->key_status);
    p->key_state = state;
    p->send_key = 1;
}

static void status_set(pm_plugin *p, pm_key_state state, const char *a, const char *b)
{
    status_set3(p, state, a, b, NULL);
}

static void trace(pm_plugin *p, const char *what)
{
    if (p->logger.log) /* without the log feature a logger falls back to stdio */
        lv2_log_trace(&p->logger, "provmark: %s\n", what);
}

/* ------------------------------------------------------- the chosen path */

/* save() may run while run() changes the path (the state extension allows it): the path
 * is written under a sequence count (odd while writing) that save() checks, so it copies
 * a path of one instant without run() ever waiting. */
static void path_set(pm_plugin *p, const char *path, size_t len)
{
    atomic_fetch_add_explicit(&p->key_seq, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memcpy(p->key_path, path, len);
    p->key_path[len] = '\0';
    atomic_thread_fence(memory_order_release);
    atomic_fetch_add_explicit(&p->key_seq, 1, memory_order_relaxed);
}

int pm_key_path_copy(pm_plugin *p, char out[PM_PATH_MAX])
{
    for (;;) {
        const uint32_t before = atomic_load_explicit(&p->key_seq, memory_order_acquire);
        if (before & 1u)
            continue; /* run() is writing it: a few hundred nanoseconds */
        memcpy(out, p->key_path, PM_PATH_MAX);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&p->key_seq, memory_order_relaxed) == before)
            break;
    }
    out[PM_PATH_MAX - 1] = '\0';
    return out[0] != '\0';
}

/* ------------------------------------------------------------------ loading */

/* Read a key file into a new schedule; on failure a status line saying why. */
static pm_key_schedule *load(const char *path, char fingerprint[17], char *status, size_t size)
{
    pm_key key;
    pm_key_schedule *ks = NULL;
    int rc = pm_key_load(&key, path);
    if (rc == PM_OK) {
        pm_key_fingerprint(&key, fingerprint);
        rc = pm_key_schedule_new(&ks, &key);
    }
    memset(&key, 0, sizeof key);
    if (rc != PM_OK) {
        snprintf(status, size, "failed: %s: %s", path, pm_strerror(rc));
        make_printable(status); /* it is logged too */
        return NULL;
    }
    return ks;
}

static void free_chain(pm_loaded *r)
{
    while (r) {
        pm_loaded *next = r->next;
        pm_key_schedule_free(r->ks);
        free(r);
        r = next;
    }
}

/* Audio thread: a result run() no longer needs goes to the worker's free list (lock-free). */
static void discard(pm_plugin *p, pm_loaded *r)
{
    pm_loaded *head = atomic_load(&p->garbage);
    do
        r->next = head;
    while (!atomic_compare_exchange_weak(&p->garbage, &head, r));
}

static LV2_Worker_Status work(LV2_Handle h, LV2_Worker_Respond_Function respond,
                              LV2_Worker_Respond_Handle rh, uint32_t size, const void *data)
{
    pm_plugin *p = h;
    free_chain(atomic_exchange(&p->garbage, NULL));
    load_head head;
    if (size < sizeof head)
        return LV2_WORKER_ERR_UNKNOWN;
    memcpy(&head, data, sizeof head); /* hosts need not align worker messages */
    const uint32_t len = size - (uint32_t)sizeof head;
    if (head.type != MSG_LOAD || len >= PM_PATH_MAX)
        return LV2_WORKER_ERR_UNKNOWN;
    pm_loaded *r = calloc(1, sizeof *r + len + 1);
    if (!r) {
        lv2_log_error(&p->logger, "provmark: out of memory loading a key file\n");
        atomic_store(&p->lost_gen, head.gen);
        return LV2_WORKER_ERR_UNKNOWN;
    }
    memcpy(r->path, (const char *)data + sizeof head, len);
    r->gen = head.gen;
    r->ks = load(r->path, r->fingerprint, r->status, sizeof r->status);
    if (!r->ks)
        lv2_log_error(&p->logger, "provmark: the chosen key cannot be used (%s); nothing is marked until one loads\n",
                      r->status);
    const reply msg = {r};
    LV2_Worker_Status st = respond(rh, sizeof msg, &msg);
    if (st != LV2_WORKER_SUCCESS) {
        lv2_log_error(&p->logger, "provmark: the host could not take the key file's answer "
                                  "(worker status %d); nothing is marked\n", (int)st);
        atomic_store(&p->lost_gen, head.gen);
        free_chain(r);
    }
    return st;
}

/* Audio thread, between run() calls. */
static LV2_Worker_Status work_response(LV2_Handle h, uint32_t size, const void *data)
{
    pm_plugin *p = h;
    reply msg;
    if (size != sizeof msg)
        return LV2_WORKER_ERR_UNKNOWN;
    memcpy(&msg, data, sizeof msg); /* hosts need not align worker messages */
    pm_loaded *r = msg.r;
    /* The answer to the latest choice, also one that comes after it was given up on. */
    if (r->gen == p->key_gen && p->key_state != PM_KEY_LOADED) {
        if (!r->ks) {
            status_set(p, PM_KEY_FAILED, r->status, NULL);
        } else if (pm_embedder_set_key_schedule(p->emb, r->ks) != PM_OK) {
            status_set(p, PM_KEY_FAILED, "failed: the embedder refused the key", NULL);
        } else {
            memcpy(p->fingerprint, r->fingerprint, sizeof p->fingerprint);
            p->key_adopting = 1; /* loaded once the embedder marks with it */
            status_set3(p, PM_KEY_LOADING, "loading: key ", p->fingerprint,
                        ", in use from the next payload period");
        }
    }
    discard(p, r); /* also an answer to an older request: a newer choice replaced it */
    return LV2_WORKER_SUCCESS;
}

const LV2_Worker_Interface pm_worker_interface = {work, work_response, NULL};

/* ------------------------------------------------------------------ the choice */

void pm_key_choose(pm_plugin *p, const char *path, uint32_t size)
{
    const size_t len = strnlen(path, size);
    if (len == 0) {
        trace(p, "empty key path ignored");
        return;
    }
    if (len >= sizeof p->key_path) {
        p->key_gen++; /* answers to the previous choice no longer count */
        status_set(p, PM_KEY_FAILED, "failed: key file path too long", NULL);
        return;
    }
    path_set(p, path, len);
    p->key_gen++;
    p->key_wait = 0;
    p->key_adopting = 0;
    if (!p->schedule) {
        status_set(p, PM_KEY_FAILED,
                   "failed: the host has no worker to load key files; use PROVMARK_KEY", NULL);
        return;
    }
    status_set(p, PM_KEY_LOADING, "loading: ", p->key_path);
    load_head head = {MSG_LOAD, p->key_gen};
    memcpy(p->msg, &head, sizeof head);
    memcpy(p->msg + sizeof head, path, len);
    LV2_Worker_Status st = p->schedule->schedule_work(p->schedule->handle,
                                                      (uint32_t)(sizeof head + len), p->msg);
    if (st != LV2_WORKER_SUCCESS)
        status_set(p, PM_KEY_FAILED, "failed: the host's worker queue refused the key file's "
                                     "request; nothing is marked", NULL);
}

int pm_key_may_mark(pm_plugin *p, uint32_t frames)
{
    if (p->key_state == PM_KEY_LOADING) {
        if (atomic_load(&p->lost_gen) == p->key_gen)
            status_set(p, PM_KEY_FAILED, "failed: the host's worker lost the key file's answer",
                       NULL);
        else if (p->key_adopting && !pm_embedder_key_pending(p->emb))
            status_set(p, PM_KEY_LOADED, "loaded: key ", p->fingerprint);
        else if (!p->key_adopting &&
                 (p->key_wait += frames) > (uint64_t)(PM_KEY_TIMEOUT_SECONDS * p->rate))
            status_set(p, PM_KEY_FAILED, "failed: no answer from the host's worker", NULL);
    }
    return p->key_state == PM_KEY_DEMO || p->key_state == PM_KEY_LOADED;
}

void pm_key_load_now(pm_plugin *p, const char *const *paths, int n)
{
    char status[PM_STATUS_MAX] = "";
    p->key_gen++; /* answers to earlier requests no longer count */
    p->key_adopting = 0;
    for (int i = 0; i < n; i++) {
        char fingerprint[17], why[PM_STATUS_MAX];
        pm_key_schedule *ks = load(paths[i], fingerprint, why, sizeof why);
        if (!status[0])
            memcpy(status, why, sizeof status);
        if (!ks)
            continue;
        int rc = pm_embedder_set_key_schedule(p->emb, ks);
        pm_key_schedule_free(ks);
        if (rc != PM_OK)
            break;
        path_set(p, paths[i], strnlen(paths[i], PM_PATH_MAX - 1));
        memcpy(p->fingerprint, fingerprint, sizeof p->fingerprint);
        p->key_adopting = 1;
        status_set(p, PM_KEY_LOADING, "loading: ", p->key_path);
        pm_key_may_mark(p, 0);
        return;
    }
    /* Keep the reference: saving again must not forget the user's key. */
    path_set(p, paths[0], n ? strnlen(paths[0], PM_PATH_MAX - 1) : 0);
    status_set(p, PM_KEY_FAILED, status, NULL);
    lv2_log_error(&p->logger, "provmark: the chosen key cannot be used (%s); nothing is marked until one loads\n",
                  status);
}

int pm_key_choice_init(pm_plugin *p, pm_key *key)
{
    const char *env = getenv("PROVMARK_KEY");
    if (!env || !*env) {
        pm_key_demo(key);
        status_set(p, PM_KEY_DEMO, "demo key: no key file chosen; its marks prove nothing", NULL);
        lv2_log_note(&p->logger, "provmark: using the public demo key until a key file is set; "
                                 "its marks prove nothing\n");
        return PM_OK;
    }
    int rc = pm_key_load(key, env);
    if (rc != PM_OK) {
        lv2_log_error(&p->logger, "provmark: PROVMARK_KEY=%s: %s\n", env, pm_strerror(rc));
        return rc;
    }
    char *abs = realpath(env, NULL); /* saved with the state: make it absolute */
    const char *use = abs ? abs : env;
    path_set(p, use, strnlen(use, PM_PATH_MAX - 1));
    free(abs);
    pm_key_fingerprint(key, p->fingerprint);
    status_set(p, PM_KEY_LOADED, "loaded: key ", p->fingerprint);
    return PM_OK;
}

void pm_key_choice_free(pm_plugin *p)
{
    free_chain(atomic_exchange(&p->garbage, NULL));
}
