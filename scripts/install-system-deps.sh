#!/usr/bin/env sh
# Install the Debian packages riskmodel needs beyond Python, skipping those already present.
#
#   scripts/install-system-deps.sh            # runtime and test packages
#   scripts/install-system-deps.sh runtime    # PDF reports only: Pango and a font (WeasyPrint)
#   scripts/install-system-deps.sh test       # browser and PDF checks: Chromium, poppler-utils
#
# Idempotent: a package already installed is not touched and apt-get is not called at all
# when nothing is missing. Runs apt-get directly as root, through sudo otherwise. Set
# RISKMODEL_SKIP_SYSTEM_DEPS=1 to skip (e.g. on a machine managed some other way).
set -eu

RUNTIME="libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"
TEST="chromium poppler-utils"

say() { printf 'install-system-deps: %s\n' "$*"; }

if [ "${RISKMODEL_SKIP_SYSTEM_DEPS:-0}" = "1" ]; then
    say "RISKMODEL_SKIP_SYSTEM_DEPS=1: skipping"
    exit 0
fi

wanted=""
if [ "$#" -eq 0 ]; then set -- runtime test; fi
for group in "$@"; do
    case "$group" in
        runtime) wanted="$wanted $RUNTIME" ;;
        test) wanted="$wanted $TEST" ;;
        *) say "unknown group '$group' (expected: runtime, test)" >&2; exit 2 ;;
    esac
done

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system (no dpkg-query/apt-get); install these yourself:$wanted"
    exit 0
fi

missing=""
for package in $wanted; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) say "$package: already installed" ;;
        *) missing="$missing $package" ;;
    esac
done

if [ -z "$missing" ]; then
    say "nothing to install"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    run=""
elif command -v sudo >/dev/null 2>&1; then
    run="sudo"
else
    say "not root and no sudo: ask an administrator to run: apt-get install -y$missing" >&2
    exit 1
fi

say "installing:$missing"
say "running: ${run:+$run }apt-get update"
$run env DEBIAN_FRONTEND=noninteractive apt-get update -qq
say "running: ${run:+$run }apt-get install -y --no-install-recommends$missing"
# shellcheck disable=SC2086 # the package list is meant to split into words
$run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
say "done"
