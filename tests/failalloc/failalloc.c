/*
 * An interposed allocator for tests: once PM_FAIL_AFTER=N allocations made by the
 * program's own code (the provmark executable with libprovmark linked in, not the
 * shared libraries it uses) have succeeded, every further one fails, as a process
 * running out of memory would see it (libebur128's fuzzer injects failures the
 * same way); with PM_FAIL_ONLY=1 only the next one fails, so that a failure that
 * later calls would also meet (and report) cannot hide one that was dropped. With PM_ALLOC_REPORT=FILE the number of the program's allocations is
 * written to FILE at exit, so that a test can try every N.
 * LD_PRELOAD=build/tests/libfailalloc.so provmark ...
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static uintptr_t prog_lo, prog_hi; /* the executable's mapped segments */
static long fail_after = -1;
static int fail_only;
static atomic_long count;

static int find_program(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size, (void)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!prog_lo || lo < prog_lo)
            prog_lo = lo;
        if (hi > prog_hi)
            prog_hi = hi;
    }
    return 1; /* the first object is the executable */
}

__attribute__((constructor)) static void init(void)
{
    dl_iterate_phdr(find_program, NULL);
    const char *n = getenv("PM_FAIL_AFTER");
    if (n)
        fail_after = strtol(n, NULL, 10);
    fail_only = getenv("PM_FAIL_ONLY") != NULL;
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("PM_ALLOC_REPORT");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%ld\n", (long)atomic_load(&count));
        fclose(f);
    }
}

/* 1 if this allocation, called from `caller`, is to fail. */
static int fails(const void *caller)
{
    const uintptr_t a = (uintptr_t)caller;
    if (a < prog_lo || a >= prog_hi)
        return 0;
    const long k = atomic_fetch_add(&count, 1);
    return fail_after >= 0 && (fail_only ? k == fail_after : k >= fail_after);
}

#define EXPORT __attribute__((visibility("default"))) /* the build hides symbols by default */
EXPORT void *malloc(size_t n) { return fails(__builtin_return_address(0)) ? NULL : __libc_malloc(n); }
EXPORT void *calloc(size_t n, size_t m) { return fails(__builtin_return_address(0)) ? NULL : __libc_calloc(n, m); }
EXPORT void *realloc(void *p, size_t n) { return fails(__builtin_return_address(0)) ? NULL : __libc_realloc(p, n); }
