# bash completion for berth: commands, subcommands, flags (read from `berth CMD --help`), and the names of
# containers and images (asked of berthd). Installed by scripts/install.sh.
_berth_words() { compgen -W "$1" -- "$2"; }

_berth() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd='' sub='' subs='' i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      -H | --host) ((i++)) ;;
      -*) ;;
      *)
        if [ -z "$cmd" ]; then
          cmd=$w
          subs=$(berth __complete subcommands "$cmd" 2>/dev/null)
        elif [ -n "$subs" ] && [ -z "$sub" ]; then
          sub=$w
        fi ;;
    esac
  done
  if [ -z "$cmd" ]; then
    mapfile -t COMPREPLY < <(_berth_words "$(berth __complete commands 2>/dev/null)" "$cur")
    return
  fi
  if [ -n "$subs" ] && [ -z "$sub" ]; then
    mapfile -t COMPREPLY < <(_berth_words "$subs" "$cur")
    return
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(_berth_words "$(berth $cmd $sub --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)" "$cur")
    return
  fi
  local names
  case "$cmd${sub:+ $sub}" in
    run | create | pull | push | rmi | save | history | tag | "image "*) names=$(berth images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>') ;;
    runtime | store | help | images | info | version | login | logout | load | import | events | system*) names='' ;;
    *) names=$(berth ps -a --format '{{.Names}}' 2>/dev/null) ;;
  esac
  mapfile -t COMPREPLY < <(_berth_words "$names" "$cur")
}
complete -o default -F _berth berth
