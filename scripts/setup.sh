#!/usr/bin/env bash
# Set mixtree up on a fresh Debian/Ubuntu machine.
#   scripts/setup.sh          system audio libraries, then the package
#   scripts/setup.sh --test   the same with the test extra, and a JACK server running
#                             on its dummy driver (no sound card needed) for the tests
set -euo pipefail
cd "$(dirname "$0")/.."

test_mode=0
[ "${1:-}" = "--test" ] && test_mode=1

# PortAudio for playback, lilv for hosting LV2 plugins, JACK for the real-audio tests,
# sox for the benchmarks, and a sound theme whose Ogg files are real-world decoder test
# material; the tests also host Debian's LV2 and CLAP plugins and build their own with DPF.
packages=(libportaudio2 liblilv-0-0 jackd2 sox sound-theme-freedesktop)
if [ $test_mode -eq 1 ]; then
    packages+=(lv2-examples zam-plugins x42-plugins mda-lv2 lilv-utils dpf-source g++ make pkg-config)
    packages+=(chromium chromium-driver)  # the studio page's tests drive a real headless browser
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else sudo=(none); fi
    if [ "${sudo[*]}" = none ]; then
        echo "setup: cannot install ${missing[*]} (not root, no sudo); playback may be unavailable" >&2
    else
        echo "setup: installing ${missing[*]}"
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

if [ $test_mode -eq 1 ]; then
    python -m pip install -q -e ".[test]"
else
    python -m pip install -q .
fi
# compile the kernels into numba's cache now, so the first render is as fast as the next
python -m mixtree.cli.warm || echo "setup: warming the kernels failed; they compile on first use" >&2

jack_up() { python -c 'import jack; jack.Client("mixtree-setup-probe", no_start_server=True).close()' 2>/dev/null; }
if [ $test_mode -eq 1 ] && command -v jackd >/dev/null && ! jack_up; then
    echo "setup: starting jackd with the dummy driver (48 kHz, 256 frames; real-time where allowed)"
    nohup scripts/jackd-dummy.sh >"${TMPDIR:-/tmp}/mixtree-jackd.log" 2>&1 &
    for _ in $(seq 50); do jack_up && break; sleep 0.2; done
    jack_up || echo "setup: jackd did not come up; the JACK tests will be skipped" >&2
fi
