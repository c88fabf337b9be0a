# shellcheck shell=sh source-path=SCRIPTDIR
# Runs one test function of tests.sh in a fresh process (main.sh puts it under
# a deadline). Exit status: 0 pass, 77 skip (reason in $T.skip), other: fail.
# shellcheck source=lib.sh
. /vm/lib.sh
t() { :; }
# shellcheck source=tests.sh
. /vm/tests.sh
"$1"
