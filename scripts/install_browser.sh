#!/usr/bin/env bash
# The headless browser the review page's tests drive (tests/test_review.py): Debian's chromium
# and its chromedriver, installed with apt-get when missing. Fonts: DejaVu, so that text (and
# the screenshot check) does not depend on whatever fonts a machine happens to have.
# Override the paths with ELMTEX_CHROMIUM / ELMTEX_CHROMEDRIVER to use another build.
set -euo pipefail

CHROMIUM="${ELMTEX_CHROMIUM:-/usr/bin/chromium}"
DRIVER="${ELMTEX_CHROMEDRIVER:-/usr/bin/chromedriver}"
PACKAGES=(chromium chromium-driver fonts-dejavu-core)

if [[ -x "$CHROMIUM" && -x "$DRIVER" && -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then
    echo "browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"), driver: $DRIVER"
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "install_browser.sh: $CHROMIUM or $DRIVER is missing and there is no apt-get here;" \
         "install Chromium and its chromedriver, then set ELMTEX_CHROMIUM and ELMTEX_CHROMEDRIVER." >&2
    exit 1
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || {
        echo "install_browser.sh: installing ${PACKAGES[*]} needs root (or sudo)." >&2; exit 1; }
    SUDO=(sudo)
fi
echo "installing ${PACKAGES[*]} with apt-get (once)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
"$CHROMIUM" --version
