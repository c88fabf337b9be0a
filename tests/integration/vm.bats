#!/usr/bin/env bats
# The pure cgroup-v2 tests, in a qemu guest (tests/vm/README.md). One test: it
# boots the guest once and fails on any guest failure; the guest's TAP is in
# the failure output, and its summary line in the run's output either way.

load helpers

@test "vm: pure cgroup v2 guest suite (tests/vm/run)" {
	local rc=0 out="$BATS_TEST_TMPDIR/vm.out" budget
	# Stay inside the per-test deadline of tests/run, with room for the report.
	budget=150
	if [[ -n "${BATS_TEST_TIMEOUT:-}" ]] && ((BATS_TEST_TIMEOUT - 20 < budget)); then
		budget=$((BATS_TEST_TIMEOUT - 20))
	fi
	VM_STRICT=1 VM_TIMEOUT="$budget" HULL="$HULL" "$REPO_ROOT/tests/vm/run" </dev/null >"$out" 2>&1 ||
		rc=$?
	grep '^# vm: [0-9]* passed' "$out" >&3 || true
	if [[ "$rc" -eq 77 ]]; then
		skip "$(tail -n 1 "$out")"
	fi
	if [[ "$rc" -ne 0 ]]; then
		cat "$out"
		echo "tests/vm/run: exit status $rc"
		return 1
	fi
}
