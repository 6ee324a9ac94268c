# Sourced by the benchmark scripts (not a benchmark itself: `make bench` runs
# benches/*.sh).
#
# contest ROUNDS FIELD min|max "IMPL..." CMD...: runs CMD once per
# implementation (IMPL in CMD replaced by its name), in turn, for ROUNDS
# rounds, so load changes hit all alike; takes field FIELD of each output
# and prints the best (min or max) value of each implementation, in order.
contest() {
    local rounds=$1 field=$2 how=$3 impls=($4) i k v best=()
    shift 4
    for ((i = 0; i < rounds; i++)); do
        for k in "${!impls[@]}"; do
            v=$("${@/IMPL/${impls[k]}}" | awk -v f="$field" '{print $f}')
            if [[ -z ${best[k]:-} ]] || awk -v v="$v" -v b="${best[k]}" -v h="$how" \
                'BEGIN { exit !((h == "min" && v < b) || (h == "max" && v > b)) }'; then
                best[k]=$v
            fi
        done
    done
    echo "${best[@]}"
}
