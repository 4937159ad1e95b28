#!/usr/bin/env bash
# One command each:  ./run.sh app   (set up + serve the Streamlit app on the bundled model)
#                    ./run.sh test  (set up + run the whole test suite, browser tests included)
#                    ./run.sh train ARGS  (set up with the training extras + python train.py ARGS)
# Setup is idempotent: a .venv beside this file, packages pinned in requirements*.txt.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

# TensorFlow build: the CUDA one when nvidia-smi sees a GPU, else the lean CPU one (requirements.txt pins
# tensorflow-cpu; the GPU build of the same version replaces it). DEEPFAKE_TF=cpu|gpu overrides the guess.
tf_flavour() {
  if [ -n "${DEEPFAKE_TF:-}" ]; then echo "$DEEPFAKE_TF"
  elif command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU; then echo gpu
  else echo cpu; fi
}

venv() {  # $1 = requirements file
  if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
  local flavour; flavour=$(tf_flavour)
  local stamp=".venv/.installed-$flavour-$(cat requirements.txt "$1" | sha1sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    if [ "$flavour" = gpu ]; then
      local tf; tf=$(grep -E '^tensorflow-cpu==' requirements.txt | sed 's/tensorflow-cpu/tensorflow[and-cuda]/')
      .venv/bin/python -m pip install -q -r <(cat requirements.txt "$1" | grep -v -e '^-r' -e '^tensorflow-cpu' | sort -u) "$tf"
      .venv/bin/python -m pip uninstall -q -y tensorflow-cpu 2>/dev/null || true
    else
      .venv/bin/python -m pip install -q -r "$1"
    fi
    touch "$stamp"
  fi
}

chromium() {  # Debian's Chromium for the real-browser tests (never `playwright install`: no downloads here)
  if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}

case "${1:-}" in
  app)
    venv requirements.txt
    # Few malloc arenas: one thread per browser session otherwise grows RSS with freed-but-held memory (bench/soak.py).
    # webui.launch: `streamlit run app.py` in one process that starts warming the model up with the server.
    MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} exec .venv/bin/python -m webui.launch --browser.gatherUsageStats false "${@:2}"
    ;;
  test)
    venv requirements-dev.txt
    chromium
    exec .venv/bin/python -m pytest "${@:2}"
    ;;
  train)
    venv requirements-dev.txt
    exec .venv/bin/python train.py "${@:2}"
    ;;
  *)
    echo "usage: ./run.sh app | test | train [extra args]" >&2
    exit 2
    ;;
esac
