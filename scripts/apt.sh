# Sourced by the setup scripts: installing Debian packages when this shell may (root, with apt-get).

can_apt() {
  [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1
}

# apt_install WHY PACKAGE...: install the packages quietly, saying what for.
apt_install() {
  local why=$1
  shift
  echo "Installing $* ($why)..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
