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

# lock_covers_pyproject FILE [extra]: exit 1, naming them, when pyproject.toml asks for packages FILE lacks
lock_covers_pyproject() {
  "${PYTHON:-python3}" - "$1" "${2:-}" <<'PY'
import re, sys, tomllib
lock, extra = sys.argv[1], sys.argv[2]
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
wanted = list(project["dependencies"]) + (project.get("optional-dependencies", {}).get(extra, []) if extra else [])
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
pinned = {norm(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", open(lock).read(), re.M)}
missing = sorted({norm(re.match(r"[A-Za-z0-9._-]+", d).group(0)) for d in wanted} - pinned)
if missing:
    sys.exit(f"{lock} lacks {', '.join(missing)} that pyproject.toml asks for: run ./scripts/lock and commit requirements/")
PY
}

# ensure_venv [extra]: .venv with the locked packages (requirements/main.txt, or requirements/dev.txt for
# [dev], installed with their hashes) and finjobs editable; re-installed when the lock file changes.
ensure_venv() {
  local extra="${1:-}" py stamp want lock
  py="$(command -v python3.11 || command -v python3)"
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "finjobs needs Python >= 3.11 (found $("$py" --version))" >&2; return 1; }
  lock="requirements/${extra:-main}.txt"
  [ -f "$lock" ] || { echo "no $lock: run ./scripts/lock" >&2; return 1; }
  PYTHON="$py" lock_covers_pyproject "$lock" "$extra" || return 1
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  stamp=.venv/.finjobs-installed
  want="$(cat "$lock" | sha256sum | cut -c1-16)-${extra}"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >&2
    .venv/bin/python -m pip install -q --require-hashes -r "$lock" >&2
    .venv/bin/python -m pip install -q --no-deps -e . >&2
    echo "$want" > "$stamp"
  fi
}
