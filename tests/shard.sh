#!/bin/sh
# The multi-machine recipes of examples/scale: GNU parallel across two "hosts" (sshd on
# loopback, reached as localhost and 127.0.0.1) and a Slurm job array run task by task.
# Both must give the same results as one local scan, and a rerun must add nothing.
. tests/lib.sh
w="$PWD/build/test-shard"
rm -rf "$w"
mkdir -p "$w/cat" "$w/ssh"
K="$PWD/tests/data/test.key"
for f in build/test-cli/m.wav build/test-cli/m.mp3 build/test-cli/m24.flac build/test-cli/in.wav \
         build/test-cli/m.ogg build/test-cli/r96.m.wav build/test-cli/pipe.wav build/test-cli/junk.wav; do
    cp "$f" "$w/cat/"
done
ls "$w"/cat/* >"$w/list.txt"
$PM detect --json --key "$K" --from "$w/list.txt" --report "$w/local.html" 2>/dev/null | jq -c 'del(.elapsed_ms)' | sort >"$w/local.jsonl"
# The reports are compared on their content: <main>, everything but the header (date, command, sources).

# A private sshd on loopback, key login only, stopped on exit.
ssh-keygen -q -t ed25519 -N '' -f "$w/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$w/ssh/id"
cp "$w/ssh/id.pub" "$w/ssh/authorized_keys"
port=$((22000 + $$ % 1000))
cat >"$w/ssh/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $w/ssh/host_key
AuthorizedKeysFile $w/ssh/authorized_keys
PasswordAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $w/ssh/sshd.pid
CONF
cat >"$w/ssh/config" <<CONF
Host *
  Port $port
  IdentityFile $w/ssh/id
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
CONF
mkdir -p /run/sshd
/usr/sbin/sshd -f "$w/ssh/sshd_config" -E "$w/ssh/sshd.log"
trap 'kill $(cat "$w/ssh/sshd.pid" 2>/dev/null) 2>/dev/null' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do ssh -F "$w/ssh/config" 127.0.0.1 true 2>/dev/null && break; sleep 0.3; done
check "sshd on loopback answers" ssh -F "$w/ssh/config" localhost true

export PM_SSH="ssh -F $w/ssh/config" PM_PROVMARK="$PWD/$PM"
examples/scale/parallel-scan.sh "$w/list.txt" 1/localhost,1/127.0.0.1 "$K" "$w/par.jsonl" >/dev/null 2>&1
check "parallel on two hosts = one local scan" sh -c "jq -c 'del(.elapsed_ms)' $w/par.jsonl | sort | cmp -s - $w/local.jsonl"
check "parallel: its report (provmark report) = the one-machine scan's report, every file in it" \
    sh -c "[ \"\$(sed -n '/<main>/,/<\/main>/p' $w/par.html)\" = \"\$(sed -n '/<main>/,/<\/main>/p' $w/local.html)\" ] && [ \$(grep -c '<tr class=' $w/par.html) = \$(wc -l <$w/list.txt) ]"
check "parallel: both hosts were used" sh -c "grep -c 'Accepted publickey' $w/ssh/sshd.log | awk '{ exit !(\$1 >= 2) }'"
examples/scale/parallel-scan.sh "$w/list.txt" 1/localhost,1/127.0.0.1 "$K" "$w/par.jsonl" >/dev/null 2>&1
check "parallel rerun adds only the files that had errors" \
    test "$(jq -s '[.[] | select(.error == null)] | length' "$w/par.jsonl")" = "$(jq -s '[.[] | select(.error == null)] | length' "$w/local.jsonl")"

mkdir -p "$w/shards"
split -n l/3 -d -a 3 "$w/list.txt" "$w/shards/part."
for t in 0 1 2; do
    SLURM_ARRAY_TASK_ID=$t SLURM_CPUS_PER_TASK=2 sh examples/scale/slurm-scan.sbatch "$w/shards" "$K" "$w/results" 2>/dev/null
done
cat "$w"/results/part.*.jsonl >"$w/slurm.jsonl"
$PM report -o "$w/slurm.html" "$w"/results/part.*.jsonl >/dev/null 2>&1
check "slurm: provmark report of the tasks' results = the one-machine scan's report" \
    sh -c "[ \"\$(sed -n '/<main>/,/<\/main>/p' $w/slurm.html)\" = \"\$(sed -n '/<main>/,/<\/main>/p' $w/local.html)\" ]"
check "slurm array (3 tasks run locally) = one local scan" sh -c "jq -c 'del(.elapsed_ms)' $w/slurm.jsonl | sort | cmp -s - $w/local.jsonl"
