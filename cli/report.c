#define _GNU_SOURCE
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct report {
    char *path;
    FILE *body; /* file sections, copied after the summary at the end */
    size_t files, marked, unmarked, errors, copying;
    double hours;
};


report *report_open(const char *path)
{
    report *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        fprintf(stderr, "provmark: out of memory\n");
        free(r ? r->path : NULL);
        free(r);
        return NULL;
    }
    r->body = tmpfile();
    if (!r->body) {
        fprintf(stderr, "provmark: cannot create a temporary file for the report\n");
        free(r->path);
        free(r);
        return NULL;
    }
    return r;
}

static const char *entry_name(const json_t *registry, const char *section, uint32_t id)
{
    char key[16];
    snprintf(key, sizeof key, "%u", id);
    const json_t *e = registry ? json_object_get(json_object_get(registry, section), key) : NULL;
    return e ? json_string_value(json_object_get(e, "name")) : NULL;
}

/* The training items a file reproduces (provmark trace), as a table. */
static void put_matches(FILE *f, const json_t *matches)
{
    size_t i;
    const json_t *m;
    fputs("<table class=\"m\"><tr><th>reproduces training item</th><th>in this file (s)</th>"
          "<th>in the item (s)</th><th>duration (s)</th><th>landmarks</th></tr>\n", f);
    json_array_foreach (matches, i, m) {
        fputs("<tr><td class=\"item\">", f);
        put_text(f, json_string_value(json_object_get(m, "item")), 1);
        const char *title = json_string_value(json_object_get(m, "title"));
        if (title) {
            fputs(" (", f);
            put_text(f, title, 1);
            fputs(")", f);
        }
        fprintf(f, "</td><td>%.1f-%.1f</td><td>%.1f-%.1f</td><td>%.1f</td><td>%d</td></tr>\n",
                json_number_value(json_object_get(m, "output_start")),
                json_number_value(json_object_get(m, "output_end")),
                json_number_value(json_object_get(m, "item_start")),
                json_number_value(json_object_get(m, "item_end")),
                json_number_value(json_object_get(m, "duration")),
                (int)json_integer_value(json_object_get(m, "landmarks")));
    }
    fputs("</table>\n", f);
}

/* One colour per mark on a file's timeline and in its legend (cycled past 8). */
static const char *const mark_colour[] = {"#2a7", "#36c", "#c3a", "#e90", "#0aa", "#a52", "#77c", "#6a0"};
#define N_COLOURS (sizeof mark_colour / sizeof mark_colour[0])

void report_add(report *r, const char *file, const pm_result *res, const pm_mark *marks, int n_marks,
                double duration, const char *error, const json_t *registry, const json_t *matches)
{
    FILE *f = r->body;
    r->files++;
    r->hours += duration / 3600.0;
    fputs("<section><h3>", f);
    put_text(f, file, 1);
    fputs("</h3>\n<p>", f);
    if (error) {
        r->errors++;
        fputs("<span class=\"err\">error: ", f);
        put_text(f, error, 1);
        fputs("</span></p></section>\n", f);
        return;
    }
    if (!res->found) {
        r->unmarked++;
        fprintf(f, "no mark (%.1f s)</p>\n", duration);
    } else {
        r->marked++;
        fprintf(f, "%d mark%s; p_false %.1e, %.1f s</p>\n", n_marks, n_marks == 1 ? "" : "s", res->p_false,
                duration);
    }
    /* Legend: each mark's colour, IDs and registry names. */
    for (int i = 0; i < n_marks; i++) {
        const pm_mark *mk = &marks[i];
        const char *m = entry_name(registry, "models", mk->model_id);
        const char *d = entry_name(registry, "datasets", mk->dataset_id);
        fprintf(f, "<p class=\"legend\"><svg width=\"12\" height=\"12\" xmlns=\"http://www.w3.org/2000/svg\">"
                   "<rect width=\"12\" height=\"12\" fill=\"%s\"/></svg> <b>model %u</b>",
                mark_colour[(size_t)i % N_COLOURS], mk->model_id);
        if (m) {
            fputs(" (", f);
            put_text(f, m, 1);
            fputs(")", f);
        }
        fprintf(f, ", <b>dataset %u</b>", mk->dataset_id);
        if (d) {
            fputs(" (", f);
            put_text(f, d, 1);
            fputs(")", f);
        }
        fprintf(f, "; sync %.1f&#963;</p>\n", mk->sync_z);
    }
    /* Timeline: the whole file as a grey bar, marked stretches in colour, reproduced
     * training material (trace) below it in orange, a tick every 10 s. */
    const double w = 800.0, scale = duration > 0 ? w / duration : 0.0;
    const int rows = json_array_size(matches) ? 1 : 0, tick = 20 + 10 * rows;
    fprintf(f, "<svg class=\"tl\" width=\"%.0f\" height=\"%d\" viewBox=\"0 0 %.0f %d\" "
               "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n"
               "<rect x=\"0\" y=\"4\" width=\"%.0f\" height=\"16\" fill=\"#ddd\"/>\n",
            w, tick + 14, w, tick + 14, w);
    size_t k;
    const json_t *m;
    json_array_foreach (matches, k, m) {
        double a = json_number_value(json_object_get(m, "output_start"));
        double b = json_number_value(json_object_get(m, "output_end"));
        b = b > duration ? duration : b;
        fprintf(f, "<rect class=\"match\" x=\"%.1f\" y=\"22\" width=\"%.1f\" height=\"7\" "
                   "fill=\"#d60\"><title>reproduces ", a * scale, (b - a) * scale);
        put_text(f, json_string_value(json_object_get(m, "item")), 1);
        fprintf(f, " %.1f-%.1f s</title></rect>\n", json_number_value(json_object_get(m, "item_start")),
                json_number_value(json_object_get(m, "item_end")));
    }
    for (int i = 0; i < n_marks; i++)
        for (int j = 0; j < marks[i].n_segments; j++) {
            const pm_segment *sg = &marks[i].segments[j];
            double a = sg->start, b = sg->end, z = sg->score;
            if (b > duration)
                b = duration;
            /* Strength as opacity: 3 sigma (the threshold) faint, 15 sigma and above solid. */
            double alpha = 0.25 + 0.75 * (z - 3.0) / 12.0;
            alpha = alpha < 0.25 ? 0.25 : alpha > 1.0 ? 1.0 : alpha;
            fprintf(f, "<rect class=\"seg\" data-mark=\"%d\" data-start=\"%.2f\" data-end=\"%.2f\" "
                       "data-score=\"%.1f\" x=\"%.1f\" y=\"4\" width=\"%.1f\" height=\"16\" fill=\"%s\" "
                       "fill-opacity=\"%.2f\"><title>model %u, dataset %u: %.1f-%.1f s, strength %.1f sigma"
                       "</title></rect>\n",
                    i, a, b, z, a * scale, (b - a) * scale, mark_colour[(size_t)i % N_COLOURS], alpha,
                    marks[i].model_id, marks[i].dataset_id, a, b, z);
        }
    for (double t = 0; t <= duration && scale > 0; t += 10.0)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#666\"/>"
                   "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" fill=\"#666\">%.0f</text>\n",
                t * scale, tick, t * scale, tick + 4, t * scale + 1, tick + 13, t);
    fputs("</svg>\n", f);
    if (rows) {
        r->copying++;
        put_matches(f, matches);
    }
    fputs("</section>\n", f);
}

int report_close(report *r)
{
    /* The whole document in memory, then written like the manifests: never half a report. */
    char *doc = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&doc, &size);
    int ok = out != NULL;
    if (out) {
        fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head>"
              "<meta charset=\"utf-8\"/>"
              "<title>provmark scan report</title>\n<style>"
              "body{font-family:sans-serif;margin:2em;color:#222}"
              "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 10px;text-align:right}"
              "section{margin:1.2em 0}h3{font-size:1em;margin:0 0 .3em;word-break:break-all}"
              ".err{color:#b00}p{margin:.2em 0}table.m td.item{text-align:left}</style></head><body>\n"
              "<h1>provmark scan report</h1>\n<h2>Summary</h2>\n<table>\n",
              out);
        fprintf(out, "<tr><th>files</th><td>%zu</td></tr>\n<tr><th>marked</th><td>%zu</td></tr>\n"
                     "<tr><th>not marked</th><td>%zu</td></tr>\n<tr><th>errors</th><td>%zu</td></tr>\n"
                     "<tr><th>hours of audio</th><td>%.2f</td></tr>\n",
                r->files, r->marked, r->unmarked, r->errors, r->hours);
        if (r->copying)
            fprintf(out, "<tr><th>reproducing training items</th><td>%zu</td></tr>\n", r->copying);
        fputs("</table>\n<h2>Files</h2>\n", out);
        rewind(r->body);
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, r->body)) > 0)
            if (fwrite(buf, 1, n, out) != n)
                ok = 0;
        fputs("</body></html>\n", out);
        ok = !ferror(r->body) && fclose(out) == 0 && ok;
    }
    if (!ok)
        say("%s: cannot write the report: out of memory", r->path);
    else if (write_atomic(r->path, doc, size, "the report") != 0)
        ok = 0;
    free(doc);
    fclose(r->body);
    free(r->path);
    free(r);
    return ok ? 0 : -1;
}
