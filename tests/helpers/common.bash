# Shared set-up for every bats file: the build tree's programs first on PATH, the bats helpers,
# and the folder for generated references.
TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
BUILD_DIR="$TOP/${BUILD:-build}"
export PATH="$BUILD_DIR/bin:$PATH"
# References made by scripts/ref (PyTorch oracle) are cached here between runs.
export REF_DIR="${REF_DIR:-$BUILD_DIR/ref}"
export PY=/usr/bin/python3
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '/usr/lib/bats/bats-file/load'
