# Shared helpers for the shell tests: each check prints "ok NAME" or "FAIL NAME".
PM=${PM:-build/bin/provmark}
# sox dithers with a new random seed on every run unless told to repeat (-R), so every
# input a suite builds with it differed from run to run: a check near its limit then
# failed now and then (tests/dataset.sh's 5 s excerpt, found in 9 of 10 seeds).
export SOX_OPTS=-R
PMSTAT=${PMSTAT:-build/bin/pmstat}
export PMSTAT
check() { # NAME COMMAND... : passes when COMMAND exits 0
    name=$1; shift
    if "$@" >/dev/null 2>&1; then echo "ok $name"; else echo "FAIL $name"; fi
}
check_exit() { # NAME STATUS COMMAND... : passes when COMMAND exits with STATUS
    name=$1 want=$2; shift 2
    "$@" >/dev/null 2>&1
    got=$?
    if [ "$got" -eq "$want" ]; then echo "ok $name"; else echo "FAIL $name (exit $got, want $want)"; fi
}
# detect_ids FILE MODEL DATASET [KEYARGS...]: the detector reports exactly these IDs. The
# result is read as one slurped line: jq 1.6's -e passes on empty input (a crash).
detect_ids() {
    f=$1 m=$2 d=$3; shift 3
    "$PM" detect --json "$@" "$f" 2>/dev/null | jq -e -s --argjson m "$m" --argjson d "$d" \
        'length == 1 and (.[0] | .found == true and .model_id == $m and .dataset_id == $d)' >/dev/null
}
detect_none() { # FILE [KEYARGS...]: the detector reports no mark (and no error)
    f=$1; shift
    "$PM" detect --json "$@" "$f" 2>/dev/null | jq -e -s 'length == 1 and (.[0] | .found == false and .error == null)' >/dev/null
}
# valid_lines KIND FILE: every line of FILE is valid against its schema in docs/ (python3-jsonschema):
# detect (docs/result.schema.json), trace (docs/trace.schema.json), report (docs/report.schema.json)
valid_lines() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import glob, json, sys, jsonschema
store = {}
for p in glob.glob("docs/*.schema.json"):
    s = json.load(open(p))
    store[s["$id"]] = s
kind, path = sys.argv[1], sys.argv[2]
schema = store["https://provmark.invalid/schemas/%s.schema.json" % ("result" if kind == "detect" else kind)]
jsonschema.Draft202012Validator.check_schema(schema)
check = jsonschema.Draft202012Validator(schema, resolver=jsonschema.RefResolver.from_schema(schema, store=store))
lines = [json.loads(l) for l in open(path) if l.strip()]
if not lines:
    sys.exit("no lines")
for l in lines:
    check.validate(l)
PY
}
# demo_key_file PATH: a key file (mode 0600) that holds the public demo key, written through the Python binding
demo_key_file() {
    PYTHONPATH=python PROVMARK_LIBRARY=build/lib/libprovmark.so /usr/bin/python3 -c \
        'import provmark, sys; provmark.Key.demo().save(sys.argv[1])' "$1" && chmod 600 "$1"
}
