/* The status line of long runs (progress.h). */
#include "progress.h"

#include <stdio.h>

#include "chatter.h"
#include "cli.h"

void progress_start(progress *p, const char *what, size_t n)
{
    *p = (progress){.what = what, .n = n, .t0 = now_ms(), .on = chatter_stderr_tty()};
}

void progress_update(progress *p, size_t done)
{
    if (!p->on || !done)
        return;
    const double eta = (now_ms() - p->t0) / 1000.0 / (double)done * (double)(p->n - done);
    /* past the stderr filter, which passes whole lines only */
    fprintf(chatter_err(), "\rprovmark: %s %zu/%zu, ETA %02d:%02d:%02d ", p->what, done, p->n,
            (int)(eta / 3600), (int)(eta / 60) % 60, (int)eta % 60);
    if (done >= p->n)
        fputc('\n', chatter_err());
}
