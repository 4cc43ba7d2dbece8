# bash completion for provmark. Commands, options and the kind of value each option
# takes are read from the command's own --help, so they are always the installed
# command's; operands complete to audio files and folders.
_provmark_help() { # PROVMARK [COMMAND]: its --help
    "$1" ${2:+"$2"} --help 2>/dev/null
}

_provmark() {
    local IFS=$'\n' pm=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD - 1]} cmd=${COMP_WORDS[1]} help meta f
    COMPREPLY=()
    local cmds
    if [ "$COMP_CWORD" -eq 1 ] || [ "$cmd" = help ]; then
        cmds=$(_provmark_help "$pm" | sed -n '/^commands:/,/^$/s/^  \([a-z]*\).*/\1/p')
    fi
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$cmds
--help
--version" -- "$cur"))
        return
    fi
    if [ "$cmd" = help ]; then # provmark help COMMAND
        [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
        return
    fi
    if [ "$cmd" = dataset ] && [ "$COMP_CWORD" -eq 2 ]; then
        COMPREPLY=($(compgen -W "$(_provmark_help "$pm" dataset | sed -n 's/^[a-z:]* *provmark dataset \([a-z]*\).*/\1/p')" -- "$cur"))
        return
    fi
    help=$(_provmark_help "$pm" "$cmd")
    # An option's value, by the name --help gives it ("--key FILE").
    meta=$(printf '%s\n' "$help" | sed -n "s/^  \(-[a-z], \)\{0,1\}$prev \([A-Z]*\) .*/\2/p" | head -n 1)
    case $meta in
    FILE | REG | MANIFEST)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    D) COMPREPLY=($(compgen -W $'sndfile\nffmpeg\nauto' -- "$cur")); return ;;
    EXT) COMPREPLY=($(compgen -W $'wav\nflac\nogg\nopus\nmp3' -- "$cur")); return ;;
    ?*) return ;; # a number or a text
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(printf '%s\n' "$help" | sed -n 's/^  \(-[a-z], \)\{0,1\}\(--[a-z-]*\).*/\2/p')
--help" -- "$cur"))
        return
    fi
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -d -- "$cur"))
    for f in $(compgen -f -- "$cur"); do
        case ${f,,} in
        *.wav | *.flac | *.ogg | *.oga | *.opus | *.mp3 | *.aif | *.aiff | *.w64 | *.rf64 | *.caf) COMPREPLY+=("$f") ;;
        esac
    done
}
complete -F _provmark provmark
