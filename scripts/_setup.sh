# Shared set-up for scripts/demo and scripts/test (sourced, not run): system packages when missing,
# then the project virtualenv at .venv, re-installed only when pyproject.toml changes.

_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

_have_postgres() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

# ensure_system_packages tesseract [postgres] [redis] [chromium]
ensure_system_packages() {
  local want=() need
  for need in "$@"; do
    case "$need" in
      tesseract) command -v tesseract >/dev/null 2>&1 || want+=(tesseract-ocr tesseract-ocr-eng) ;;
      postgres) _have_postgres || want+=(postgresql) ;;
      redis) command -v redis-server >/dev/null 2>&1 || want+=(redis-server) ;;
      chromium) [ -x /usr/bin/chromium ] || want+=(chromium) ;;  # the console's browser tests
    esac
  done
  [ ${#want[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "finjobs needs: ${want[*]} (install them with your package manager: see README 'Other systems')" >&2
    return 1
  fi
  echo "installing system packages: ${want[*]}" >&2
  _sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  _sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >&2
}

# ensure_venv [extra]: .venv with finjobs installed editable (with [extra] when given)
ensure_venv() {
  local extra="${1:-}" py stamp want
  py="$(command -v python3.11 || command -v python3)"
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "finjobs needs Python >= 3.11 (found $("$py" --version))" >&2; return 1; }
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  stamp=.venv/.finjobs-installed
  want="$(cat pyproject.toml | sha256sum | cut -c1-16)-${extra}"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >&2
    .venv/bin/python -m pip install -q -e ".${extra:+[$extra]}" >&2
    echo "$want" > "$stamp"
  fi
}
