# Sourced by the benchmark scripts (not a benchmark itself: `make bench` runs
# benches/*.sh).
#
# contest ROUNDS FIELD min|max|median "IMPL..." CMD...: runs CMD once per
# implementation (IMPL in CMD replaced by its name), in turn, for ROUNDS
# rounds, so load changes hit all alike; takes field FIELD of each output
# and prints, for each implementation in order, the best value (min or
# max) or the median. The median suits figures that come out bimodal on a
# virtual machine (a queue's throughput jumps between two levels from run
# to run): the best of a few runs then says more about luck than about the
# code.
contest() {
    local rounds=$1 field=$2 how=$3 impls=($4) i k v out=()
    local seen=()
    shift 4
    for ((i = 0; i < rounds; i++)); do
        for k in "${!impls[@]}"; do
            v=$("${@/IMPL/${impls[k]}}" | awk -v f="$field" '{print $f}')
            seen[$k]+="$v "
        done
    done
    for k in "${!impls[@]}"; do
        out+=("$(tr ' ' '\n' <<<"${seen[$k]}" | awk 'NF' | sort -g | awk -v h="$how" '
            { v[NR] = $1 }
            END {
                if (h == "min") print v[1]
                else if (h == "max") print v[NR]
                else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)
            }')")
    done
    echo "${out[@]}"
}
