#!/bin/sh
# Fingerprint a training catalogue in shards on several machines with GNU parallel, then
# query the shards as one index (docs/FPINDEX.md, "Shards").
# usage: parallel-index.sh FOLDERS HOSTS NAME VERSION LICENSE OUTDIR
#   FOLDERS  the catalogue's folders, one per line: one shard each (the same paths on
#            every host: shared storage)
#   HOSTS    GNU parallel sshlogins, e.g. "1/alice,1/bob" (":" is this machine)
#   NAME VERSION LICENSE   the dataset's metadata, written into every shard's manifest
#   OUTDIR   where the shards go, on the shared storage: shard-NNN.json (a dataset
#            manifest; item paths relative to OUTDIR) and shard-NNN.pmfp, NNN the
#            folder's line in FOLDERS
# Prints the trace options naming every shard, in order (also in OUTDIR/trace.args):
#   provmark trace --no-detect $(cat OUTDIR/trace.args) suspect.mp3
# Running it again after an interruption or after new files were added redoes only
# what changed: 'dataset add' skips unchanged files, and a shard whose manifest still
# holds its index record is not fingerprinted again.
# PM_SSH overrides the ssh command (e.g. "ssh -F my_config"); PM_PROVMARK the
# provmark path on the hosts.
set -eu
folders=$1 hosts=$2
PMI_NAME=$3 PMI_VERSION=$4 PMI_LICENSE=$5 PMI_OUT=$6 PMI_PM=${PM_PROVMARK:-provmark}
export PMI_NAME PMI_VERSION PMI_LICENSE PMI_OUT PMI_PM
mkdir -p "$PMI_OUT"
# One job per folder ({#}: its line), as many at once per host as the sshlogin says;
# each job is the three commands of docs/DATASETS.md on its own manifest (add and
# fingerprint lock it, so a shard never has two writers). The metadata travels as
# environment variables (--env), so no value is ever parsed by a shell.
# shellcheck disable=SC2016 # expanded by the job's shell on its host
parallel --will-cite ${PM_SSH:+--ssh "$PM_SSH"} -S "$hosts" -a "$folders" \
    --env PMI_NAME --env PMI_VERSION --env PMI_LICENSE --env PMI_OUT --env PMI_PM \
    'm=$(printf "%s/shard-%03d.json" "$PMI_OUT" {#})
     { [ -e "$m" ] || "$PMI_PM" dataset init "$m" --name "$PMI_NAME" --version "$PMI_VERSION" --license "$PMI_LICENSE"; } &&
     "$PMI_PM" dataset add "$m" {} &&
     { jq -e .fingerprints "$m" >/dev/null 2>&1 || "$PMI_PM" dataset fingerprint "$m"; }'
n=$(wc -l <"$folders")
i=1
: >"$PMI_OUT/trace.args.part"
while [ "$i" -le "$n" ]; do
    printf -- '--dataset %s/shard-%03d.json\n' "$PMI_OUT" "$i" >>"$PMI_OUT/trace.args.part"
    i=$((i + 1))
done
mv "$PMI_OUT/trace.args.part" "$PMI_OUT/trace.args"
cat "$PMI_OUT/trace.args"
