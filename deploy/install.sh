#!/usr/bin/env bash
# Install localgpt from this bundle, with no network: ./install.sh PREFIX
#
# Checks every file against SHA256SUMS and the bundle's platform against this machine,
# makes a virtual environment at PREFIX, installs from the bundle's wheels only
# (pip --no-index --find-links), copies the bundle's extra models to PREFIX/share/localgpt/models
# and writes PREFIX/bin/localgpt so that they are this install's defaults.
# Running it again is harmless: what is installed already is kept.
# PYTHON picks the interpreter (python3 by default).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
die() { echo "install.sh: $*" >&2; exit 1; }

[[ $# -eq 1 && "$1" != -* ]] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
prefix=$1
command -v "$python" >/dev/null || die "no $python here: install Python $(sed -n 's/^python=//p' "$here/PLATFORM"), or set PYTHON"

# 1. Every file as it was made: a damaged or changed file stops the install, named.
cd "$here"
[[ -f SHA256SUMS ]] || die "SHA256SUMS is missing: the bundle is incomplete. Copy it again."
bad=$(sha256sum --check --quiet SHA256SUMS 2>/dev/null | sed -n 's/: FAILED.*//p' || true)
if [[ -n "$bad" ]]; then
    while IFS= read -r file; do
        if [[ -e "$file" ]]; then echo "install.sh: $file differs from SHA256SUMS: damaged or changed." >&2
        else echo "install.sh: $file is missing from the bundle." >&2; fi
    done <<<"$bad"
    die "nothing was installed. Copy the bundle again."
fi
unlisted=$(comm -13 <(sed 's/^[0-9a-f]*  //' SHA256SUMS | LC_ALL=C sort) \
                    <(find wheels models -type f -printf '%p\n' 2>/dev/null | LC_ALL=C sort))
[[ -z "$unlisted" ]] || die "$(head -1 <<<"$unlisted") is not in SHA256SUMS: files were added to the bundle. Nothing was installed."
echo "All $(wc -l <SHA256SUMS) files match SHA256SUMS." >&2

# 2. This machine can run the bundle's wheels.
"$python" "$here/bundletool.py" check "$here/PLATFORM" || die "nothing was installed."

# 3. The virtual environment, and the packages from this bundle only (no index, no pip configuration).
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
if [[ ! -x "$prefix/bin/python" ]]; then
    # Debian and Ubuntu ship ensurepip apart (python3-venv); without it the venv gets pip from the bundle.
    venv_args=()
    "$python" -c 'import ensurepip' 2>/dev/null || venv_args=(--without-pip)
    "$python" -m venv "${venv_args[@]}" "$prefix" || die "could not make a virtual environment at $prefix"
fi
"$prefix/bin/python" "$here/bundletool.py" check "$here/PLATFORM" ||
    die "$prefix holds a virtual environment of another Python: choose another PREFIX."
for name in $(compgen -e | grep '^PIP_' || true); do unset "$name"; done
if ! "$prefix/bin/python" -m pip --version >/dev/null 2>&1; then
    # pip runs from its own wheel to install itself (its documented bootstrap), checked against its hash.
    pip_wheel=$(ls "$here"/wheels/pip-*.whl 2>/dev/null | head -1)
    [[ -n "$pip_wheel" ]] || die "$python has no ensurepip (Debian/Ubuntu: python3-venv) and the bundle has no pip wheel."
    PIP_CONFIG_FILE=/dev/null "$prefix/bin/python" "$pip_wheel/pip" install --quiet --disable-pip-version-check \
        --no-cache-dir --no-index --find-links "$here/wheels" --require-hashes \
        -r <(grep '^pip==' "$here/requirements.txt") || die "could not install pip from $pip_wheel into $prefix"
fi
PIP_CONFIG_FILE=/dev/null "$prefix/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    --no-index --find-links "$here/wheels" --require-hashes -r "$here/requirements.txt"

# 4. Extra models: copied in, and made this install's defaults by the launcher.
share=$prefix/share/localgpt
defaults=""
while IFS='=' read -r setting path; do
    [[ -n "$setting" ]] || continue
    mkdir -p "$share/models"
    target=$share/$path
    rm -rf "$target.partial"
    mkdir -p "$(dirname "$target")"
    # Modes as this install makes them (its umask), not as the bundle holds them: a bundle made under umask 077
    # holds 0600 files, and a container's non-root user could not read its models.
    cp -R --no-preserve=mode "$here/$path" "$target.partial"
    rm -rf "$target"
    mv "$target.partial" "$target"
    variable=LOCALGPT_${setting^^}
    defaults+=": \"\${$variable:=$target}\"; export $variable"$'\n'
done <"$here/MODELS"

launcher=$prefix/bin/localgpt
cat >"$launcher.partial" <<EOF
#!/bin/sh
# Written by the localgpt bundle's install.sh. The bundle's extra models are the defaults here;
# LOCALGPT_* variables and command-line options still win.
${defaults}exec "$prefix/bin/python" -I -c 'import sys; from localgpt import cli; sys.exit(cli(prog_name="localgpt"))' "\$@"
EOF
chmod 755 "$launcher.partial"
mv "$launcher.partial" "$launcher"

"$launcher" --version >/dev/null || die "localgpt was installed but does not start: run $launcher --version to see why."

# 5. llama.cpp loads here (checked in a child process: a build made for another CPU dies with an
#    illegal instruction, which must not end this script unexplained). The exit code tells a CPU the
#    build cannot run on (1) from a shared library this system lacks (3, named with its package).
status=0
"$prefix/bin/python" -I -c 'import sys; from generation.backends.llama_native import main; sys.exit(main())' >&2 || status=$?
case $status in
    0) ;;
    1) die "localgpt is installed in $prefix, but its llama.cpp build cannot run on this CPU (above). Make the bundle again with deploy/make-bundle.sh, which builds llama.cpp for any x86-64 CPU." ;;
    3) die "localgpt is installed in $prefix, but llama.cpp cannot load: this system lacks a shared library it needs (named above, with the package that provides it). The CPU is fine." ;;
    *) die "localgpt is installed in $prefix, but llama.cpp could not be loaded (above)." ;;
esac
echo "Installed $("$launcher" --version) in $prefix."
[[ -z "$defaults" ]] || echo "Default models: $(sed -n 's/.*:=\(.*\)}.*/\1/p' <<<"$defaults" | xargs)"
echo "Next: $launcher ingest --source-dir FOLDER --db INDEX; then $launcher ask --db INDEX \"A question\"; $launcher doctor checks the install."
