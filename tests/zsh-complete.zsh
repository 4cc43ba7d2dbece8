# Drive an interactive zsh in a pseudo-terminal as a user would: for each LINE, type
# it, press Tab, and print the command line that completion left, as ":LINE:".
# usage: zsh tests/zsh-complete.zsh FPATH_DIR PATH_DIR LINE...
zmodload zsh/zpty
zpty z "zsh -f -i"
zpty -w z "PS1='%% '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "path=($2 \$path)"
shift 2
for line in "$@"; do
    zpty -n -w z "$line"$'\t'
    sleep 0.5
    zpty -w z $'\x01echo :\x05:' # ^A, 'echo :' before it, ^E, ':' after it, Enter
done
sleep 1
out=
while zpty -r -t z chunk 2>/dev/null; do out+=$chunk; done
print -r -- "$out" | tr -d '\r' | grep -a '^:'
zpty -d z
