#!/usr/bin/env bash
# Proves that the security tests can fail: for each mutation (one rule of central removed in the test's own scratch
# database), runs the test file that guards it and expects it to FAIL. Prints one line per mutation and exits 1 if any
# mutation left its suite green (a rule no test guards).
#
# Needs CLOCKFACE_TEST_DATABASE_URL (a superuser URL, as for `npm run test:faults`). Takes about 15 s per mutation.
# Usage: bash scripts/check-security-mutations.sh [name-filter]
set -uo pipefail
cd "$(dirname "$0")/.."
[ -n "${CLOCKFACE_TEST_DATABASE_URL:-}" ] || { echo "set CLOCKFACE_TEST_DATABASE_URL (see scripts/install-postgres.sh)" >&2; exit 2; }
filter="${1:-}"

# file | environment variable | mutation names (the MUTATIONS table of each file)
suites=(
  "test/faults/central-roles.test.ts|CLOCKFACE_ROLE_MUTATION"
  "test/faults/central-it-login.test.ts|CLOCKFACE_IT_MUTATION"
  "test/faults/central-abuse.test.ts|CLOCKFACE_ABUSE_MUTATION"
)

mutations_of() {
  # The keys of `const MUTATIONS … = {`, one per line, up to the closing `};`.
  awk '/^const MUTATIONS/ {on=1; next} on && /^};/ {exit} on' "$1" | grep -oE "^  '[a-z0-9-]+'" | tr -d " '"
}

# Defence in depth: these remove one of two layers that each enforce the same rule, so the suite stays green; the
# mutation that removes both layers (named beside them in the file) must not.
expected_survivors=" revoked-helpers-only "

survivors=0
total=0
for suite in "${suites[@]}"; do
  file="${suite%%|*}"
  var="${suite##*|}"
  for m in $(mutations_of "$file"); do
    [ -n "$filter" ] && [[ "$m" != *"$filter"* ]] && continue
    total=$((total + 1))
    log="$(mktemp)"
    env "$var=$m" npx vitest run --config vitest.faults.config.ts "$file" >"$log" 2>&1
    failed=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -oE 'Tests +[0-9]+ failed' | grep -oE '[0-9]+' | head -1)
    if [ -n "$failed" ]; then
      echo "caught    $m ($file): $failed test(s) failed"
    elif [[ "$expected_survivors" == *" $m "* ]] && grep -q 'Tests .*passed' <(sed 's/\x1b\[[0-9;]*m//g' "$log"); then
      echo "layered   $m ($file): passed, as expected (another layer holds the rule)"
    else
      # Passed, or broke before any test ran (a mutation that no longer applies is a mutation that checks nothing).
      echo "SURVIVED  $m ($file): $(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -m1 -E 'Error|Tests ' || echo 'no test failed')"
      survivors=$((survivors + 1))
    fi
    rm -f "$log"
  done
done
echo "$total mutations, $((total - survivors)) caught, $survivors survived"
[ "$survivors" -eq 0 ]
