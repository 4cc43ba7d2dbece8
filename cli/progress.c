/* The status line of long runs (progress.h). */
#include "progress.h"

#include <stdatomic.h>
#include <stdio.h>

#include "chatter.h"
#include "cli.h"

void progress_start(progress *p, const char *what, size_t n, int erase)
{
    *p = (progress){.what = what, .n = n, .t0 = now_ms(), .on = chatter_stderr_tty(), .erase = erase};
}

static atomic_int shown; /* a status line is on the terminal, not ended */

void progress_clear(const progress *p)
{
    if (p->on) { /* past the stderr filter, which passes whole lines only */
        fputs("\r\033[K", chatter_err());
        atomic_store(&shown, 0);
    }
}

void progress_hide(void)
{
    if (atomic_exchange(&shown, 0))
        fputs("\r\033[K", chatter_err());
}

void progress_update(progress *p, size_t done, const char *detail)
{
    if (!p->on || !done)
        return;
    const double eta = (now_ms() - p->t0) / 1000.0 / (double)done * (double)(p->n - done);
    fprintf(chatter_err(), "\rprovmark: %s %zu/%zu%s%s, ETA %02d:%02d:%02d ", p->what, done, p->n,
            detail ? ", " : "", detail ? detail : "", (int)(eta / 3600), (int)(eta / 60) % 60, (int)eta % 60);
    atomic_store(&shown, 1);
    if (done >= p->n) {
        if (p->erase)
            progress_clear(p);
        else
            fputc('\n', chatter_err());
        atomic_store(&shown, 0);
    }
}
