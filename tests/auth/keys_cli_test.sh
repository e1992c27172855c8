#!/usr/bin/env bash
# `vidup projects` and `vidup keys` end to end, on a temporary data directory.
# usage: keys_cli_test.sh PATH_TO_VIDUP
set -u
vidup="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
data="$dir/data"
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# projects create prints only the new project's id.
project="$("$vidup" projects create --name "First project" --data "$data" 2>"$dir/err")"
if [[ "$project" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]; then ok; else bad "projects create printed '$project'"; fi
if "$vidup" projects list --data "$data" | grep -q "$project  First project"; then ok; else bad "projects list misses the project"; fi

# keys create --project prints only the key; a missing project is refused.
key="$("$vidup" keys create --project "$project" --name ci --data "$data" 2>"$dir/err")"
if [[ "$key" =~ ^ky_[0-9a-f]{20}$ ]]; then ok; else bad "keys create printed '$key'"; fi
if grep -q "key_" "$dir/err"; then ok; else bad "keys create gave no details on stderr"; fi
if "$vidup" keys create --project 00000000-0000-4000-8000-000000000000 --data "$data" >"$dir/out" 2>"$dir/err"; then
  bad "keys create with an unknown project succeeded"
elif [ ! -s "$dir/out" ] && grep -q "does not exist" "$dir/err"; then ok; else bad "unknown project: $(cat "$dir/err")"; fi
# VIDUP_DATA stands for --data; a key without --project may act on every project.
global="$(VIDUP_DATA="$data" "$vidup" keys create --name everything 2>/dev/null)"
if [[ "$global" =~ ^ky_[0-9a-f]{20}$ ]]; then ok; else bad "keys create (VIDUP_DATA) printed '$global'"; fi

# keys list shows keys masked, never in full.
"$vidup" keys list --data "$data" >"$dir/list" 2>&1
id="$(grep " ci " "$dir/list" | awk '{print $1}')"
if [[ "$id" =~ ^key_[0-9a-f]{16}$ ]]; then ok; else bad "keys list has no id for the key: $(cat "$dir/list")"; fi
if grep -q "${key:0:7}…${key: -4}" "$dir/list"; then ok; else bad "keys list does not show the masked key"; fi
if grep -q -e "$key" -e "$global" "$dir/list"; then bad "keys list printed a full key"; else ok; fi
if grep " ci " "$dir/list" | grep -q "$project.*active"; then ok; else bad "the scoped key is not listed active"; fi
if grep " everything " "$dir/list" | grep -q " \* .*active"; then ok; else bad "the global key is not listed for '*'"; fi

# revoke by id, and by the key itself; both show as revoked.
if "$vidup" keys revoke "$id" --data "$data" >/dev/null 2>&1; then ok; else bad "keys revoke by id failed"; fi
if "$vidup" keys revoke "$global" --data "$data" >"$dir/out" 2>&1 && ! grep -q "$global" "$dir/out"; then ok; else bad "keys revoke by key failed"; fi
"$vidup" keys list --data "$data" >"$dir/list" 2>&1
if grep " ci " "$dir/list" | grep -q "revoked"; then ok; else bad "keys list does not show the revocation"; fi
if grep " everything " "$dir/list" | grep -q "revoked"; then ok; else bad "revoke by key did not revoke it"; fi

# unknown keys: exit 1 with one line, and a mistyped secret is not echoed.
if "$vidup" keys revoke key_0000000000000000 --data "$data" >/dev/null 2>"$dir/err"; then
  bad "revoking an unknown key succeeded"
elif [ "$(wc -l <"$dir/err")" -eq 1 ]; then ok; else bad "unknown revoke: $(cat "$dir/err")"; fi
"$vidup" keys revoke ky_00000000000000000000 --data "$data" >/dev/null 2>"$dir/err"
rc=$?
if [ "$rc" -eq 1 ] && ! grep -q ky_00000000000000000000 "$dir/err"; then ok; else bad "unknown secret: rc=$rc $(cat "$dir/err")"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
