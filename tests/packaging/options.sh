#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The option documentation cannot drift from `patchworkd --help`: every option it prints must be in
# patchworkd(1) and (except --config, which names the file) in /etc/patchwork/patchworkd.yaml, neither
# may document an option --help does not know, and the file with every commented option switched on
# must start the daemon (so each example value parses). Likewise patchwork(1) and `patchwork help`.
# Usage: options.sh PATCHWORKD SOURCE-DIR
set -euo pipefail

source "$(dirname "$0")/../e2e/lib.sh" "$1"
source_dir=$2
man="$source_dir/installer/linux/man/patchworkd.1"
yaml="$source_dir/installer/linux/patchworkd.yaml"

long_options() { grep -oE '(^|[^a-z-])--[a-z][a-z-]*' | sed 's/^.*--//' | sort -u; }
roff_options() { grep -oE '\\-\\-[a-z][a-z\\-]*' "$1" | sed 's/\\-/-/g; s/^--//' | sort -u; }

client_options=$(bash "$source_dir/resources/patchwork.sh" help | long_options)
[[ $(wc -l <<<"$client_options") -ge 10 ]] || fail "patchwork help lists too few options: $client_options"
[[ $client_options == "$(roff_options "$source_dir/installer/linux/man/patchwork.1")" ]] ||
    fail "patchwork(1) and patchwork help differ: $(diff <(echo "$client_options") \
        <(roff_options "$source_dir/installer/linux/man/patchwork.1"))"

help_options=$("$daemon" --help | long_options)
[[ $(wc -l <<<"$help_options") -ge 30 ]] || fail "--help lists too few options: $help_options"
man_options=$(roff_options "$man")
yaml_keys=$(sed -nE 's/^#?([a-z][a-z-]*):( |$).*/\1/p' "$yaml" | sort -u)

missing=$(comm -23 <(echo "$help_options") <(echo "$man_options"))
[[ -z "$missing" ]] || fail "options of --help missing from patchworkd(1): $missing"
# The man page may name options of subcommands (healthcheck, tunnel) that the daemon's --help lists too.
unknown=$(comm -13 <(echo "$help_options") <(echo "$man_options"))
[[ -z "$unknown" ]] || fail "patchworkd(1) documents options --help does not know: $unknown"

missing=$(comm -23 <(grep -vxE 'config|help|version|url|token|token-file|ca-file' <<<"$help_options") \
    <(echo "$yaml_keys"))
[[ -z "$missing" ]] || fail "options of --help missing from patchworkd.yaml: $missing"
unknown=$(comm -13 <(echo "$help_options") <(echo "$yaml_keys"))
[[ -z "$unknown" ]] || fail "patchworkd.yaml has keys --help does not know: $unknown"

# Every commented option switched on: the daemon accepts the file (flags keep it on loopback).
sed -E 's/^#([a-z][a-z-]*: )/\1/' "$yaml" >"$work/all.yaml"
mkdir -p "$work/users"
start_daemon --config "$work/all.yaml" --users-dir "$work/users"
[[ $(c "$B/healthz") == "OK!" ]] || fail "healthz with every option of patchworkd.yaml set"
stop_daemon
echo "ok: $(wc -l <<<"$help_options") options documented"
