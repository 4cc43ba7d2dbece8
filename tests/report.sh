#!/bin/sh
# provmark report (issue 16): results merged from several JSON-lines files into one
# record per file; detect --report and --resume covering every file; a bad report
# path refused before the scan; the HTML report rendered in headless Chromium
# (Debian's chromium) and its DOM checked; the summary valid against its schema.
. tests/lib.sh
w=build/test-report
rm -rf "$w"
mkdir -p "$w/c"
K="--key tests/data/test.key"
chmod 600 tests/data/test.key
R=examples/registry/registry.json
ffmpeg -nostdin -v error -y -ss 40 -t 12 -i /usr/share/games/etr/music/freezingpoint.ogg -c:a pcm_s16le "$w/in.wav"
$PM embed "$w/in.wav" "$w/c/a_marked.wav" --model 7 --dataset 42 $K --no-verify 2>/dev/null
$PM embed "$w/in.wav" "$w/c/b_unregistered.wav" --model 7 --dataset 5 $K --no-verify 2>/dev/null
$PM embed "$w/in.wav" "$w/c/c_demo.wav" --model 7 --dataset 42 --no-verify 2>/dev/null
cp "$w/in.wav" "$w/c/d_unmarked.wav"
head -c 5000 /dev/urandom >"$w/c/e_junk.wav"
cp "$w/in.wav" "$w/c/f <b>&amp;.wav"
DK=build/test-report/demo.key
demo_key_file "$DK"
KEYS="$K --key $DK --registry $R"

# One scan with its report, and the same results in pieces (two "machines", an error
# that a rerun turned into a result, a line cut off by an interrupted write).
# shellcheck disable=SC2086
$PM detect -r --json $KEYS --report "$w/one.html" "$w/c" >"$w/one.jsonl" 2>/dev/null
check_exit "detect --report: exit status 2 (a damaged file)" 2 $PM detect -r $KEYS --report "$w/one2.html" "$w/c"
sed -n '1,3p' "$w/one.jsonl" >"$w/part1.jsonl"
sed -n '4,$p' "$w/one.jsonl" >"$w/part2.jsonl"
jq -c '{file, error: "gave up after 1 s (--max-seconds)"}' "$w/part2.jsonl" | head -n 1 >"$w/part0.jsonl"
sed -n 2p "$w/one.jsonl" | head -c 50 >>"$w/part2.jsonl"
$PM report -o "$w/merged.html" "$w/part0.jsonl" "$w/part2.jsonl" "$w/part1.jsonl" "$w/part1.jsonl" >"$w/summary.txt"
status=$?
check "report: exit status as detect's (2: a damaged file)" test "$status" = 2
main() { sed -n '/<main>/,/<\/main>/p' "$1"; }
check "report: pieces merged (duplicates, an error superseded, a cut-off line) = the one scan's report" \
    sh -c "[ -n \"\$(sed -n '/<main>/,/<\/main>/p' $w/one.html)\" ] && [ \"\$(sed -n '/<main>/,/<\/main>/p' $w/one.html)\" = \"\$(sed -n '/<main>/,/<\/main>/p' $w/merged.html)\" ]"
check "report: the header records the sources and the skipped line" \
    sh -c "grep -q 'part1.jsonl: 3 records' $w/merged.html && grep -q '1 line that are not valid records skipped' $w/merged.html"
check "report: terminal summary" sh -c "grep -q '^6 files, 0.0[0-9] h of audio: 3 marked, 2 not marked, 1 could not be read' $w/summary.txt &&
    grep -q 'warning: 1 file marked with the public demo key' $w/summary.txt && grep -q '1 file with IDs not in the registry' $w/summary.txt"
$PM report --json "$w/one.jsonl" >"$w/summary.json"
check "report --json: the summary is valid against docs/report.schema.json" valid_lines report "$w/summary.json"
check "report --json: counts, demo key, unregistered, by model and dataset" jq -e '
    .files == 6 and .marked == 3 and .unmarked == 2 and .errors == 1 and .demo_key == 1 and .unregistered == 1 and
    ([.by_mark[] | [.model_id, .dataset_id, .demo_key, .files]] | sort) == [[7,5,false,1],[7,42,false,1],[7,42,true,1]]' "$w/summary.json"
check "report: the header records command, version, keys and the registry's SHA-256" \
    sh -c "grep -q '<code>provmark detect -r --json --key tests/data/test.key' $w/one.html && grep -q \"$(sha256sum $R | cut -c1-64)\" $w/one.html &&
           grep -q '<th>provmark</th><td>[0-9]' $w/one.html && grep -q 'public demo key' $w/one.html"
check "report: valid XML (polyglot HTML)" xmllint --noout "$w/one.html" "$w/merged.html"

# --resume: the report and the exit status cover the files done earlier too.
# shellcheck disable=SC2086
$PM detect --json $KEYS "$w/c/a_marked.wav" "$w/c/d_unmarked.wav" >"$w/first.jsonl" 2>/dev/null
# shellcheck disable=SC2086
$PM detect --json $KEYS --resume "$w/first.jsonl" --report "$w/resumed.html" "$w/c/a_marked.wav" "$w/c/d_unmarked.wav" "$w/c/b_unregistered.wav" >"$w/rest.jsonl" 2>/dev/null
status=$?
check "--resume: only the new file scanned" test "$(jq -r .file "$w/rest.jsonl")" = "$w/c/b_unregistered.wav"
check "--resume --report: every file named is in the report" test "$(grep -c '<tr class=' "$w/resumed.html")" = 3
check "--resume: the exit status counts the unmarked file done earlier (1)" test "$status" = 1
check_exit "--resume: nothing left, all done earlier were marked: exit 0" 0 $PM detect --json $K --resume "$w/first.jsonl" "$w/c/a_marked.wav"
check_exit "--resume: nothing left, one done earlier unmarked: exit 1" 1 $PM detect --json $K --resume "$w/first.jsonl" "$w/c/a_marked.wav" "$w/c/d_unmarked.wav"

# A bad report path is refused before any file is read.
for bad in "$w/none/r.html" "$w/c"; do
    out=$($PM detect --json $K --report "$bad" "$w/c/a_marked.wav" 2>"$w/bad.err")
    check "--report $(basename "$bad"): refused at once, nothing scanned" sh -c "[ -z '$out' ] && grep -q 'cannot write the report' $w/bad.err"
done
check_exit "trace --report to a missing folder: refused" 2 $PM trace $K --report "$w/none/t.html" "$w/c/a_marked.wav"
check_exit "report -o to a missing folder: refused" 2 $PM report -o "$w/none/r.html" "$w/one.jsonl"
check_exit "report: a missing results file is an error" 2 $PM report "$w/none.jsonl"

# The report as a browser shows it: headless Chromium runs the inline script, --dump-dom
# gives the document it made.
chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --window-size=360,800 --dump-dom \
    "file://$PWD/$w/one.html" >"$w/dom.html" 2>"$w/chromium.err"
/usr/bin/python3 - "$w/dom.html" "$w/c" >"$w/dom.check" <<'PY'
import sys, re
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.rows = []; s.ids = {}; s.els = []; s.text = {}; s.cur = None
    def handle_starttag(s, tag, attrs):
        a = dict(attrs); s.els.append((tag, a))
        if "id" in a: s.ids[a["id"]] = (tag, a)
        if tag == "tr" and "class" in a: s.rows.append(a["class"]); s.cur = ["tr", ""]
    def handle_data(s, d):
        if s.cur is not None: s.cur[1] += d
p = P(); p.feed(open(sys.argv[1]).read())
fails = []
def need(cond, what):
    if not cond: fails.append(what)
classes = [c.split() for c in p.rows]
need(len(classes) == 6, "6 table rows, got %d" % len(classes))
need(sum("marked" in c for c in classes) == 3 and sum("unmarked" in c for c in classes) == 2 and sum("error" in c for c in classes) == 1, "row kinds %r" % classes)
need(sum("demo" in c for c in classes) == 1 and sum("unreg" in c for c in classes) == 1, "demo/unreg rows %r" % classes)
need("tools" in p.ids and "hidden" not in p.ids["tools"][1], "the script ran (filter tools shown)")
need("demo-banner" in p.ids, "demo-key banner")
arts = [a for t, a in p.els if t == "article"]
need(len(arts) == 3, "3 timelines, got %d" % len(arts))
segs = [a for t, a in p.els if t == "span" and a.get("class") == "seg"]
need(len(segs) >= 3 and all(re.search(r"background:#[0-9a-f]{6}", a["style"]) for a in segs), "coloured segments")
dom = open(sys.argv[1]).read()
ticks = re.findall(r'<div class="ax"[^>]*>(.*?)</div>', dom)
need(len(ticks) == 3 and all(re.findall(r">(\d+:\d\d)<", t)[-1] == "0:12" and re.findall(r">(\d+:\d\d)<", t)[0] == "0:00" for t in ticks), "m:ss axis 0:00..0:12")
need('class="last"' in dom, "last tick kept inside the bar")
need("f &lt;b&gt;&amp;amp;.wav" in dom and "<b>&amp;" not in dom.replace("f &lt;b&gt;", ""), "hostile name escaped")
need(not re.search(r'\b(src|href)="(?!#)', dom), "no external resource")
print("ok" if not fails else "bad: " + "; ".join(fails))
PY
check "chromium: the DOM has every file, kinds, badges, banner, timelines with m:ss axes ($(cat "$w/dom.check"))" grep -qx ok "$w/dom.check"

# A truncated file (a marked WAV cut to a third: its header states more) gets a
# "truncated" badge saying why, and its mark is still shown.
head -c "$(($(stat -c %s "$w/c/a_marked.wav") / 3))" "$w/c/a_marked.wav" >"$w/cut.wav"
$PM detect --json $K "$w/cut.wav" >"$w/cut.jsonl" 2>/dev/null
$PM report -o "$w/cut.html" "$w/cut.jsonl" >/dev/null 2>&1
check "report: a truncated file has a 'truncated' badge with the reason" \
    sh -c "jq -e '.truncated != null' $w/cut.jsonl >/dev/null && grep -q 'class=\"b cut\" title=\"[^\"]*states[^\"]*\">truncated<' $w/cut.html && xmllint --noout $w/cut.html"

# Review findings: the report never replaces its results, never shows a record that is
# not a valid result as a mark, knows the demo key by its fingerprint, escapes
# noncharacters, and says when there is nothing to report.
cp "$w/one.jsonl" "$w/keep.jsonl"
check_exit "report -o onto its own results: refused" 2 $PM report -o "$w/keep.jsonl" "$w/keep.jsonl"
check "... and the results kept" cmp -s "$w/one.jsonl" "$w/keep.jsonl"
check_exit "detect --report onto the file stdout appends to: refused" 2 \
    sh -c "$PM detect --json $K --report $w/keep.jsonl $w/c/a_marked.wav >>$w/keep.jsonl"
printf '%s\n' '{"file":"x.wav","found":true,"marks":[{"model_id":1,"dataset_id":2,"segments":[{"start":0,"end":10}]}]}' \
    '{"file":"y.wav","found":true,"model_id":99999999999,"dataset_id":-1,"p_false":"NaN"}' >"$w/forged.jsonl"
cat "$w/one.jsonl" >>"$w/forged.jsonl"
$PM report --json "$w/forged.jsonl" >"$w/forged.json" 2>/dev/null
check "report: records that are not valid results skipped and counted, never marks" \
    jq -e --argjson n "$(jq -s 'length' "$w/one.jsonl")" '.files == $n and .skipped_lines == 2' "$w/forged.json"
jq -c 'if .demo_key then .demo_key = false | .marks |= map(.demo_key = false) else . end' "$w/one.jsonl" >"$w/nodemo.jsonl"
$PM report --json "$w/nodemo.jsonl" >"$w/nodemo.json" 2>/dev/null
check "report: a demo-key mark is known by its fingerprint whatever the record says" \
    jq -e '.demo_key == 1' "$w/nodemo.json"
mkdir -p "$w/nc"
cp "$w/c/a_marked.wav" "$w/nc/$(printf 'n\357\277\276')x.wav"
$PM detect $K --report "$w/nc.html" "$w/nc/"*.wav >/dev/null 2>&1
check "report: a name with a noncharacter (U+FFFE) is escaped, the report well-formed" \
    sh -c "xmllint --noout $w/nc.html && grep -q 'n\\\\ufffex.wav' $w/nc.html"
check_exit "report: nothing to report is an error" 2 sh -c "printf 'garbage\n' | $PM report -"
