#include "html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* One colour per mark of a file, on its timeline and in its legend (cycled past 8). */
static const char *const mark_colour[] = {"#1b8a5a", "#2f5fc4", "#b8318f", "#c77700", "#00838f", "#8d4a1f", "#5b5bb5", "#5a8a00"};
#define N_COLOURS (sizeof mark_colour / sizeof mark_colour[0])

#define NUM(o, k) json_number_value(json_object_get(o, k))
#define STR(o, k) json_string_value(json_object_get(o, k))

static const char style[] =
    "html{font-size:clamp(14px,.45vw + 11px,22px)}"
    "body{font-family:sans-serif;margin:0 auto;padding:1em 1.5em;max-width:110em;color:#1a1a1a;background:#fff;line-height:1.35}"
    "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.4em 0 .5em;border-bottom:1px solid #ccc}"
    "h3{font-size:1em;margin:0 0 .3em;overflow-wrap:anywhere}"
    "table{border-collapse:collapse}td,th{border:1px solid #c4c4c4;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".meta th{background:none;border:0;padding-left:0;white-space:nowrap}.meta td{border:0;overflow-wrap:anywhere}"
    ".wide{overflow-x:auto;max-width:100%}"
    "#files td.file{overflow-wrap:anywhere;min-width:10em}#files td.err{font-size:.9em}#files code{font-size:.85em}"
    "#files thead th{position:sticky;top:0;cursor:pointer}"
    ".banner{border:3px solid #b00;background:#fee;color:#700;padding:.6em 1em;font-weight:bold;margin:1em 0}"
    ".b{display:inline-block;font-size:.8em;font-weight:bold;border-radius:.3em;padding:0 .4em;margin-left:.3em;white-space:nowrap}"
    ".b.demo{background:#b00;color:#fff}.b.unreg{background:#c77700;color:#fff}.b.err{background:#555;color:#fff}.b.cut{background:#555;color:#fff}"
    ".b.rec{background:#2a5d9f;color:#fff}"
    ".b.ok{background:#1b8a5a;color:#fff}.b.none{background:#ddd;color:#333}"
    "article.f{margin:1em 0 1.4em;break-inside:avoid;page-break-inside:avoid}"
    ".legend{list-style:none;padding:0;margin:.2em 0}.legend li{margin:.1em 0}"
    ".sw{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin-right:.3em;border:1px solid #0003}"
    ".tl{position:relative;margin:.3em .8em 1.8em .2em}"
    ".bar{position:relative;height:1.2em;background:#e3e3e3}"
    ".bar span,.mt span{position:absolute;top:0;bottom:0;min-width:1px}"
    ".mt{position:relative;height:.5em;margin-top:.15em}.mt span{background:#d60}"
    ".ax{position:relative;height:1.4em;border-top:1px solid #777}"
    ".ax span{position:absolute;top:0;font-size:.75em;color:#444;transform:translateX(-50%);white-space:nowrap}"
    ".ax span::before{content:'';position:absolute;left:50%;top:0;height:.35em;border-left:1px solid #777}"
    ".ax span.first{transform:none}.ax span.first::before{left:0}"
    ".ax span.last{transform:translateX(-100%)}.ax span.last::before{left:auto;right:0}"
    ".ax span{padding-top:.35em}"
    "ul.cols{columns:22em;column-gap:2em;padding-left:1.2em}ul.cols li{overflow-wrap:anywhere;break-inside:avoid}"
    "code.h{overflow-wrap:anywhere;font-size:.85em}.err{color:#a00}.tools{margin:.5em 0}.tools input{min-width:14em}input,select{font:inherit}"
    "@media (max-width:40em){body{padding:.5em}td,th{padding:.2em .35em}}"
    "@media print{.tools{display:none}body{max-width:none;padding:0}"
    "h2,h3{break-after:avoid;page-break-after:avoid}.banner,.b,.bar span,.mt span,.sw{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "#files thead th{position:static}}";

/* Sorting by any column (numbers by data-v) and filtering by text and kind; XML-safe. */
static const char script[] =
    "//<![CDATA[\n"
    "(function(){var t=document.getElementById('files');if(!t)return;"
    "var tb=t.tBodies[0],q=document.getElementById('q'),k=document.getElementById('kind'),n=document.getElementById('shown');"
    "document.getElementById('tools').hidden=false;"
    "function show(){var s=q.value.toLowerCase(),c=k.value,m=0;"
    "Array.prototype.forEach.call(tb.rows,function(r){var v=r.textContent.toLowerCase().indexOf(s)>=0&&(!c||r.classList.contains(c));"
    "r.hidden=!v;if(v)m++;});n.textContent=m+' of '+tb.rows.length+' files shown';}"
    "q.addEventListener('input',show);k.addEventListener('change',show);"
    "Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.tabIndex=0;th.title='sort';"
    "function v(r){var c=r.cells[i];return c?c.getAttribute('data-v')||'':'';}"
    "function sort(){var up=th.getAttribute('aria-sort')!=='ascending';"
    "Array.prototype.forEach.call(t.tHead.rows[0].cells,function(o){o.removeAttribute('aria-sort');});"
    "th.setAttribute('aria-sort',up?'ascending':'descending');"
    "var rows=Array.prototype.slice.call(tb.rows);rows.sort(function(a,b){"
    "var x=v(a),y=v(b);"
    "var fx=parseFloat(x),fy=parseFloat(y),d=isNaN(fx)||isNaN(fy)?x.localeCompare(y):fx-fy;return up?d:-d;});"
    "rows.forEach(function(r){tb.appendChild(r);});}"
    "th.addEventListener('click',sort);th.addEventListener('keydown',function(e){if(e.key==='Enter')sort();});});"
    "show();})();\n"
    "//]]>";

/* m:ss (h:mm:ss from an hour on), for people. */
static void put_time(FILE *f, double s)
{
    long t = lround(s > 0 ? s : 0);
    if (t >= 3600)
        fprintf(f, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        fprintf(f, "%ld:%02ld", t / 60, t % 60);
}

/* A record's file name without the first `skip` bytes (the folder all files share); any bytes are shown escaped. */
static void put_name(FILE *f, const json_t *rec, size_t skip)
{
    char *name = json_get_name(rec, "file");
    const char *s = name ? name : STR(rec, "file");
    put_text(f, s && strlen(s) > skip ? s + skip : s, 1);
    free(name);
}

/* The length of the folder every record's file is in ("a/b/" of a/b/c.wav and a/b/d/e.wav), or 0. */
static size_t common_folder(const json_t *records)
{
    size_t i, n = 0;
    const json_t *r;
    char *first = NULL;
    json_array_foreach (records, i, r) {
        char *name = json_get_name(r, "file");
        if (!name) {
            n = 0;
            break;
        }
        if (!first) {
            first = name;
            n = strlen(name);
            continue;
        }
        size_t k = 0;
        while (k < n && name[k] == first[k])
            k++;
        n = k;
        free(name);
    }
    while (n > 0 && first[n - 1] != '/')
        n--;
    free(first);
    return n;
}

/* The registry entry's name of a mark's model or dataset, or NULL. */
static const char *entry_name(const json_t *mark, const char *what)
{
    return STR(json_object_get(mark, what), "name");
}

static int has_unregistered(const json_t *mark)
{
    return json_array_size(json_object_get(mark, "unregistered")) > 0;
}

/* "model 7 (tunegen)", with a badge when the registry lacks the ID; the word left out in the table's columns. */
static void put_id_as(FILE *f, const json_t *mark, const char *what, const char *id_key, int word)
{
    fprintf(f, "%s%s%lld", word ? what : "", word ? " " : "", (long long)json_integer_value(json_object_get(mark, id_key)));
    const char *name = entry_name(mark, what);
    size_t i;
    const json_t *u;
    if (name) {
        fputs(" (", f);
        put_text(f, name, 1);
        fputs(")", f);
    }
    json_array_foreach (json_object_get(mark, "unregistered"), i, u) {
        if (json_is_string(u) && strcmp(json_string_value(u), what) == 0)
            fputs("<span class=\"b unreg\">not in registry</span>", f);
    }
}

static void put_id(FILE *f, const json_t *mark, const char *what, const char *id_key)
{
    put_id_as(f, mark, what, id_key, 1);
}

/* 1 if any mark of the file has `flag` true (demo_key, recognised). */
static int any_mark_flag(const json_t *rec, const char *flag)
{
    size_t i;
    const json_t *m;
    json_array_foreach (json_object_get(rec, "marks"), i, m) {
        if (json_is_true(json_object_get(m, flag)))
            return 1;
    }
    return 0;
}

static int any_unregistered(const json_t *rec)
{
    size_t i;
    const json_t *m;
    json_array_foreach (json_object_get(rec, "marks"), i, m) {
        if (has_unregistered(m))
            return 1;
    }
    return 0;
}

/* The badges of a file: demo key, not in registry, recognised, truncated (with why, as its title). */
static void put_badges(FILE *f, const json_t *rec)
{
    if (any_mark_flag(rec, "demo_key"))
        fputs("<span class=\"b demo\">demo key</span>", f);
    if (any_mark_flag(rec, "recognised"))
        fputs("<span class=\"b rec\" title=\"too weak to decode blind: recognised as a pair the registry "
              "lists\">recognised</span>", f);
    if (any_unregistered(rec))
        fputs("<span class=\"b unreg\">not in registry</span>", f);
    const char *cut = json_string_value(json_object_get(rec, "truncated"));
    if (cut) {
        fputs("<span class=\"b cut\" title=\"", f);
        put_text(f, cut, 1);
        fputs("\">truncated</span>", f);
    }
}

static void put_header(FILE *f, const json_t *summary, const html_meta *m)
{
    fputs("<header><h1>", f);
    put_text(f, m->title, 1);
    fputs("</h1>\n<table class=\"meta\">\n<tr><th>generated</th><td>", f);
    char when[64];
    const time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
    fprintf(f, "%s</td></tr>\n<tr><th>provmark</th><td>%s</td></tr>\n<tr><th>command</th><td><code>", when,
            pm_version_string());
    put_text(f, m->command, 1);
    fputs("</code></td></tr>\n<tr><th>results read</th><td>", f);
    size_t i;
    const json_t *s;
    json_array_foreach (m->sources, i, s) {
        fputs(i ? "<br/>" : "", f);
        put_text(f, STR(s, "name"), 1);
        fprintf(f, ": %lld records", (long long)json_integer_value(json_object_get(s, "records")));
        if (STR(s, "modified")) {
            fputs(", written ", f);
            put_text(f, STR(s, "modified"), 1);
        }
    }
    if (m->skipped)
        fprintf(f, "<br/><span class=\"err\">%zu line%s that are not valid records skipped (a cut-off write, or not a result of provmark)</span>",
                m->skipped, m->skipped == 1 ? "" : "s");
    fputs("</td></tr>\n<tr><th>keys that matched</th><td>", f);
    const json_t *k;
    json_array_foreach (json_object_get(summary, "keys"), i, k) {
        fprintf(f, "%s<code>", i ? "<br/>" : "");
        put_text(f, STR(k, "key"), 1);
        fprintf(f, "</code> (%lld file%s)", (long long)json_integer_value(json_object_get(k, "files")),
                json_integer_value(json_object_get(k, "files")) == 1 ? "" : "s");
        if (json_is_true(json_object_get(k, "demo_key")))
            fputs("<span class=\"b demo\">public demo key</span>", f);
    }
    if (!json_array_size(json_object_get(summary, "keys")))
        fputs("none", f);
    fputs("</td></tr>\n<tr><th>registry</th><td>", f);
    put_text(f, m->registry ? m->registry : "none given", 1);
    fputs("</td></tr>\n</table></header>\n", f);
}

static void put_summary(FILE *f, const json_t *summary)
{
    const long long demo = json_integer_value(json_object_get(summary, "demo_key"));
    if (demo)
        fprintf(f, "<p class=\"banner\" id=\"demo-banner\">%lld file%s hold%s a mark made with the public demo key. "
                   "Anyone can make such a mark: it proves nothing about who made the audio.</p>\n",
                demo, demo == 1 ? "" : "s", demo == 1 ? "s" : "");
    fprintf(f, "<section id=\"summary\"><h2>Summary</h2>\n<table class=\"sum\">\n"
               "<tr><th>files</th><td class=\"n\">%lld</td></tr>\n<tr><th>marked</th><td class=\"n\">%lld</td></tr>\n"
               "<tr><th>not marked</th><td class=\"n\">%lld</td></tr>\n<tr><th>errors</th><td class=\"n\">%lld</td></tr>\n"
               "<tr><th>hours of audio</th><td class=\"n\">%.2f</td></tr>\n"
               "<tr><th>marked with the demo key</th><td class=\"n\">%lld</td></tr>\n"
               "<tr><th>IDs not in the registry</th><td class=\"n\">%lld</td></tr>\n",
            (long long)json_integer_value(json_object_get(summary, "files")),
            (long long)json_integer_value(json_object_get(summary, "marked")),
            (long long)json_integer_value(json_object_get(summary, "unmarked")),
            (long long)json_integer_value(json_object_get(summary, "errors")), NUM(summary, "hours"), demo,
            (long long)json_integer_value(json_object_get(summary, "unregistered")));
    if (json_object_get(summary, "training_items"))
        fprintf(f, "<tr><th>training items reproduced</th><td class=\"n\">%lld</td></tr>\n"
                   "<tr><th>files reproducing training items</th><td class=\"n\">%lld</td></tr>\n",
                (long long)json_integer_value(json_object_get(summary, "training_items")),
                (long long)json_integer_value(json_object_get(summary, "reproducing_files")));
    fputs("</table>\n<h3>By model and dataset</h3>\n<div class=\"wide\"><table id=\"bymark\">\n<thead><tr><th>model</th>"
          "<th>dataset</th><th>files</th><th>hours</th></tr></thead><tbody>\n", f);
    size_t i;
    const json_t *b;
    json_array_foreach (json_object_get(summary, "by_mark"), i, b) {
        fputs("<tr><td>", f);
        put_id(f, b, "model", "model_id");
        fputs("</td><td>", f);
        put_id(f, b, "dataset", "dataset_id");
        if (json_is_true(json_object_get(b, "demo_key")))
            fputs("<span class=\"b demo\">demo key</span>", f);
        fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n\">%.2f</td></tr>\n",
                (long long)json_integer_value(json_object_get(b, "files")), NUM(b, "hours"));
    }
    if (!json_array_size(json_object_get(summary, "by_mark")))
        fputs("<tr><td colspan=\"4\">no mark found</td></tr>\n", f);
    fputs("</tbody></table></div></section>\n", f);
}

/* The kind of a record, for the table's filter: marked, unmarked or error. */
static const char *kind(const json_t *rec)
{
    return STR(rec, "error") ? "error" : json_is_true(json_object_get(rec, "found")) ? "marked" : "unmarked";
}

static void put_table(FILE *f, const json_t *records, size_t skip)
{
    fputs("<section><h2>Files", f);
    if (skip) {
        char *name = json_get_name(json_array_get(records, 0), "file");
        fputs(" in <code>", f);
        if (name) {
            name[skip] = '\0';
            put_text(f, name, 1);
        }
        fputs("</code>", f);
        free(name);
    }
    fputs("</h2>\n<p class=\"tools\" id=\"tools\" hidden=\"hidden\">"
          "<input id=\"q\" type=\"search\" placeholder=\"filter by text\" aria-label=\"filter by text\"/> "
          "<select id=\"kind\" aria-label=\"show\"><option value=\"\">all files</option>"
          "<option value=\"marked\">marked</option><option value=\"unmarked\">not marked</option>"
          "<option value=\"error\">errors</option><option value=\"demo\">demo key</option>"
          "<option value=\"unreg\">not in registry</option></select> <span id=\"shown\"></span></p>\n"
          "<div class=\"wide\"><table id=\"files\">\n<thead><tr><th>file</th><th>result</th><th>model</th>"
          "<th>dataset</th><th>p_false</th><th>length</th><th>key</th><th>SHA-256</th></tr></thead>\n<tbody>\n",
          f);
    size_t i;
    const json_t *r;
    json_array_foreach (records, i, r) {
        const char *k = kind(r);
        const int marked = !strcmp(k, "marked");
        fprintf(f, "<tr class=\"%s%s%s\"><td class=\"file\" data-v=\"", k, any_mark_flag(r, "demo_key") ? " demo" : "",
                any_unregistered(r) ? " unreg" : "");
        put_name(f, r, skip);
        fputs("\">", f);
        if (marked || json_array_size(json_object_get(r, "matches")))
            fprintf(f, "<a href=\"#f%zu\">", i);
        put_name(f, r, skip);
        fputs(marked || json_array_size(json_object_get(r, "matches")) ? "</a>" : "", f);
        fprintf(f, "</td><td data-v=\"%s\">", k);
        if (!strcmp(k, "error")) {
            fputs("<span class=\"b err\">error</span></td><td colspan=\"6\" data-v=\"\" class=\"err\">", f);
            put_text(f, STR(r, "error"), 1);
            fputs("</td></tr>\n", f);
            continue;
        }
        const json_t *marks = json_object_get(r, "marks");
        if (marked)
            fprintf(f, "<span class=\"b ok\">%zu mark%s</span>", json_array_size(marks),
                    json_array_size(marks) == 1 ? "" : "s");
        else
            fputs(json_is_null(json_object_get(r, "found")) ? "<span class=\"b none\">not looked for</span>"
                                                               : "<span class=\"b none\">no mark</span>", f);
        put_badges(f, r);
        fprintf(f, "</td><td data-v=\"%lld\">", marked ? (long long)json_integer_value(json_object_get(r, "model_id")) : -1LL);
        if (marked)
            put_id_as(f, r, "model", "model_id", 0);
        fprintf(f, "</td><td data-v=\"%lld\">", marked ? (long long)json_integer_value(json_object_get(r, "dataset_id")) : -1LL);
        if (marked)
            put_id_as(f, r, "dataset", "dataset_id", 0);
        if (marked)
            fprintf(f, "</td><td class=\"n\" data-v=\"%.3e\">%.1e", NUM(r, "p_false"), NUM(r, "p_false"));
        else
            fputs("</td><td class=\"n\" data-v=\"2\">", f);
        fprintf(f, "</td><td class=\"n\" data-v=\"%.3f\">", NUM(r, "duration"));
        put_time(f, NUM(r, "duration"));
        /* the key's first 8 hex digits (the whole fingerprint is in the header and the legend) */
        char key8[9] = "";
        snprintf(key8, sizeof key8, "%s", marked && STR(r, "key") ? STR(r, "key") : "");
        fputs("</td><td data-v=\"", f);
        put_text(f, key8, 1);
        fputs("\"><code>", f);
        put_text(f, key8, 1);
        /* the hash's first 10 digits; the whole one in the tooltip and with the file's timeline or list entry */
        char sha12[11] = "";
        snprintf(sha12, sizeof sha12, "%s", STR(r, "sha256") ? STR(r, "sha256") : "");
        fputs("</code></td><td data-v=\"", f);
        put_text(f, STR(r, "sha256"), 1);
        fputs("\" title=\"", f);
        put_text(f, STR(r, "sha256"), 1);
        fputs("\"><code>", f);
        put_text(f, sha12, 1);
        fputs("</code></td></tr>\n", f);
    }
    fputs("</tbody></table></div></section>\n", f);
}

/* A tick every step seconds, at most 7 on the axis (readable at 360 px). */
static double tick_step(double duration)
{
    static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (duration / steps[i] <= 6)
            return steps[i];
    return 3600.0 * ceil(duration / 21600.0);
}

/* A percentage of the file's length, clamped to the bar. */
static double pct(double t, double duration)
{
    double p = duration > 0 ? 100.0 * t / duration : 0.0;
    return p < 0 ? 0 : p > 100 ? 100 : p;
}

static void put_matches(FILE *f, const json_t *matches)
{
    size_t i;
    const json_t *m;
    fputs("<div class=\"wide\"><table class=\"m\"><thead><tr><th>reproduces training item</th><th>in this file</th>"
          "<th>in the item</th><th>seconds</th><th>landmarks</th></tr></thead><tbody>\n", f);
    json_array_foreach (matches, i, m) {
        fputs("<tr><td class=\"item\">", f);
        put_text(f, STR(m, "item"), 1);
        if (STR(m, "title")) {
            fputs(" (", f);
            put_text(f, STR(m, "title"), 1);
            fputs(")", f);
        }
        if (json_integer_value(json_object_get(m, "rank")) > 1)
            fprintf(f, " (another statement of the passage, rank %lld)", json_integer_value(json_object_get(m, "rank")));
        const double st = NUM(m, "pitch_semitones"), tempo = json_object_get(m, "tempo") ? NUM(m, "tempo") : 1.0;
        if (st != 0.0) /* a transposed or re-timed copy (an older record has neither field) */
            fprintf(f, " (transposed %+.2f semitones)", st);
        if (tempo != 1.0)
            fprintf(f, " (tempo &times;%.3f)", tempo);
        fputs("</td><td>", f);
        put_time(f, NUM(m, "output_start"));
        fputs("-", f);
        put_time(f, NUM(m, "output_end"));
        fputs("</td><td>", f);
        put_time(f, NUM(m, "item_start"));
        fputs("-", f);
        put_time(f, NUM(m, "item_end"));
        fprintf(f, "</td><td class=\"n\">%.1f</td><td class=\"n\">%lld</td></tr>\n", NUM(m, "duration"),
                (long long)json_integer_value(json_object_get(m, "landmarks")));
    }
    fputs("</tbody></table></div>\n", f);
}

/* "; 1234567 bytes, sha256 <hex>" when the record has them. */
static void put_digest(FILE *f, const json_t *r)
{
    if (!STR(r, "sha256"))
        return;
    fprintf(f, "; %lld bytes, sha256 <code class=\"h\">", (long long)json_integer_value(json_object_get(r, "size")));
    put_text(f, STR(r, "sha256"), 1);
    fputs("</code>", f);
}

/* One file with a mark or a reproduced training item: heading, legend, timeline, items. */
static void put_timeline(FILE *f, size_t idx, const json_t *r, size_t skip)
{
    const double duration = NUM(r, "duration");
    const json_t *marks = json_object_get(r, "marks"), *matches = json_object_get(r, "matches");
    fprintf(f, "<article class=\"f\" id=\"f%zu\"><h3>", idx);
    put_name(f, r, skip);
    put_badges(f, r);
    fputs("</h3>\n<p>", f);
    if (json_array_size(marks))
        fprintf(f, "%zu mark%s; p_false %.2e; ", json_array_size(marks), json_array_size(marks) == 1 ? "" : "s",
                NUM(r, "p_false"));
    else
        fputs("no mark; ", f);
    put_time(f, duration);
    put_digest(f, r);
    fputs("</p>\n<ul class=\"legend\">\n", f);
    size_t i, j;
    const json_t *m, *s;
    json_array_foreach (marks, i, m) {
        fprintf(f, "<li data-mark=\"%zu\"><span class=\"sw\" style=\"background:%s\"></span>", i,
                mark_colour[i % N_COLOURS]);
        put_id(f, m, "model", "model_id");
        fputs(", ", f);
        put_id(f, m, "dataset", "dataset_id");
        fputs("; key <code>", f);
        put_text(f, STR(m, "key"), 1);
        fputs("</code>", f);
        if (json_is_true(json_object_get(m, "demo_key")))
            fputs("<span class=\"b demo\">demo key</span>", f);
        fprintf(f, "; sync %.1f&#963;</li>\n", NUM(m, "sync_z"));
    }
    if (json_array_size(matches))
        fputs("<li><span class=\"sw\" style=\"background:#d60\"></span>reproduced training material</li>\n", f);
    fputs("</ul>\n<div class=\"tl\"><div class=\"bar\">", f);
    json_array_foreach (marks, i, m) {
        json_array_foreach (json_object_get(m, "segments"), j, s) {
            const double a = NUM(s, "start"), b = NUM(s, "end"), z = NUM(s, "score");
            /* Strength as opacity: 3 sigma (the threshold) faint, 15 sigma and above solid. */
            double alpha = 0.35 + 0.65 * (z - 3.0) / 12.0;
            alpha = alpha < 0.35 ? 0.35 : alpha > 1.0 ? 1.0 : alpha;
            fprintf(f, "<span class=\"seg\" data-mark=\"%zu\" data-start=\"%.2f\" data-end=\"%.2f\" data-score=\"%.1f\" "
                       "style=\"left:%.3f%%;width:%.3f%%;background:%s;opacity:%.2f\" title=\"model %lld, dataset %lld: ",
                    i, a, b, z, pct(a, duration), pct(b, duration) - pct(a, duration), mark_colour[i % N_COLOURS], alpha,
                    (long long)json_integer_value(json_object_get(m, "model_id")),
                    (long long)json_integer_value(json_object_get(m, "dataset_id")));
            put_time(f, a);
            fputs("-", f);
            put_time(f, b);
            fprintf(f, ", strength %.1f sigma\"></span>", z);
        }
    }
    fputs("</div>", f);
    if (json_array_size(matches)) {
        fputs("<div class=\"mt\">", f);
        json_array_foreach (matches, i, m) {
            if (json_integer_value(json_object_get(m, "rank")) > 1) /* a repeat of a passage drawn already */
                continue;
            const double a = NUM(m, "output_start"), b = NUM(m, "output_end");
            fprintf(f, "<span class=\"match\" style=\"left:%.3f%%;width:%.3f%%\" title=\"reproduces ", pct(a, duration),
                    pct(b, duration) - pct(a, duration));
            put_text(f, STR(m, "item"), 1);
            fputs("\"></span>", f);
        }
        fputs("</div>", f);
    }
    fputs("<div class=\"ax\" aria-hidden=\"true\">", f);
    const double step = tick_step(duration);
    const int n = duration > 0 ? (int)floor(duration / step + 1e-9) : 0;
    for (int t = 0; t <= n; t++) {
        const int last = t == n && t > 0 && pct(t * step, duration) > 92.0;
        fprintf(f, "<span%s style=\"left:%.3f%%\">", t == 0 ? " class=\"first\"" : last ? " class=\"last\"" : "",
                pct(t * step, duration));
        put_time(f, t * step);
        fputs("</span>", f);
    }
    fputs("</div></div>\n", f);
    if (json_array_size(matches))
        put_matches(f, matches);
    fputs("</article>\n", f);
}

int html_write(FILE *f, const json_t *records, const json_t *summary, const html_meta *m)
{
    fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>", f);
    put_text(f, m->title, 1);
    fprintf(f, "</title>\n<style>%s</style></head><body>\n", style);
    put_header(f, summary, m);
    fputs("<main>\n", f);
    put_summary(f, summary);
    const size_t skip = common_folder(records);
    put_table(f, records, skip);
    size_t i, n_unmarked = 0, n_errors = 0;
    const json_t *r;
    fputs("<section id=\"timelines\"><h2>Where the marks are</h2>\n", f);
    json_array_foreach (records, i, r) {
        if (STR(r, "error"))
            n_errors++;
        else if (json_is_true(json_object_get(r, "found")) || json_array_size(json_object_get(r, "matches")))
            put_timeline(f, i, r, skip);
        else
            n_unmarked++;
    }
    fputs("</section>\n", f);
    fprintf(f, "<section id=\"unmarked\"><h2>Files without a mark</h2>\n<details%s><summary>%zu file%s</summary>"
               "<ul class=\"cols\">\n", n_unmarked <= 20 ? " open=\"open\"" : "", n_unmarked, n_unmarked == 1 ? "" : "s");
    json_array_foreach (records, i, r) {
        if (!STR(r, "error") && !json_is_true(json_object_get(r, "found")) && !json_array_size(json_object_get(r, "matches"))) {
            fputs("<li>", f);
            put_name(f, r, skip);
            fputs(" (", f);
            put_time(f, NUM(r, "duration"));
            put_digest(f, r);
            fputs(")</li>\n", f);
        }
    }
    fprintf(f, "</ul></details></section>\n<section id=\"errors\"><h2>Files that could not be read</h2>\n"
               "<p>%zu file%s</p><ul>\n", n_errors, n_errors == 1 ? "" : "s");
    json_array_foreach (records, i, r) {
        if (STR(r, "error")) {
            fputs("<li>", f);
            put_name(f, r, skip);
            fputs(": <span class=\"err\">", f);
            put_text(f, STR(r, "error"), 1);
            fputs("</span></li>\n", f);
        }
    }
    fprintf(f, "</ul></section>\n</main>\n<script>%s</script>\n</body></html>\n", script);
    return ferror(f) ? -1 : 0;
}
