# Shared set-up for every bats file: the build tree's programs first on PATH, the bats helpers,
# and the folder for generated references.
TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
case ${BUILD:-build} in
/*) BUILD_DIR=$BUILD ;;
*) BUILD_DIR="$TOP/${BUILD:-build}" ;;
esac
export PATH="$BUILD_DIR/bin:$PATH"
# References made by scripts/ref (PyTorch oracle) are cached here between runs.
REF_DIR="$(realpath -m "${REF_DIR:-$BUILD_DIR/ref}")"
export REF_DIR
export PY=/usr/bin/python3
# Tests that run make (scripts/experiment.mk) must see it as a user's shell would, not as a
# sub-make of `make check` (which adds "Entering directory" lines and a jobserver).
unset MAKEFLAGS MFLAGS MAKELEVEL
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '/usr/lib/bats/bats-file/load'
