#!/bin/sh
# Scan a catalogue on several machines with GNU parallel.
# usage: parallel-scan.sh LIST HOSTS KEY OUT.jsonl
# Ends with 'provmark report': a summary on stdout and OUT.html, the report of every
# file scanned so far (all hosts, all runs), beside OUT.jsonl.
#   LIST      paths to scan, one per line (the same paths on every host: shared storage)
#   HOSTS     GNU parallel sshlogins, e.g. "1/alice,1/bob" (one provmark per host; it
#             uses every core of its host itself)
#   KEY       key file, readable on every host at the same path
#   OUT.jsonl results, appended; files it already holds are skipped (--resume), so
#             running the same command again after an interruption finishes the job
# PM_SSH overrides the ssh command (e.g. "ssh -F my_config"); PM_PROVMARK the
# provmark path on the hosts.
set -eu
list=$1 hosts=$2 key=$3 out=$4
pm=${PM_PROVMARK:-provmark}
touch "$out"
# --pipepart cuts LIST into 4 blocks per host, so a slow host does not hold the rest back;
# each block goes to one host's provmark on stdin; results come back on stdout.
# provmark exits 1 (some file unmarked) or 2 (some file damaged) as a matter of course;
# parallel counts those jobs as failed (exit 1-101). Only 255 means parallel itself failed.
status=0
parallel --will-cite ${PM_SSH:+--ssh "$PM_SSH"} -S "$hosts" --pipepart -a "$list" --block -4 \
    "$pm detect --json --from - --key $key --resume $out" >>"$out.part" || status=$?
cat "$out.part" >>"$out"
rm -f "$out.part"
[ "$status" -lt 255 ]
# One report of everything: exit 1 or 2 only say that some file is unmarked or damaged.
"$pm" report -o "${out%.jsonl}.html" "$out" || [ $? -le 2 ]
