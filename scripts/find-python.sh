#!/usr/bin/env sh
# Print the path of a Python >= 3.12 interpreter, or explain what to install and fail.
# Order: $PYTHON, then python3.14 .. python3.12 and python3 on the PATH, then pyenv's versions.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
for candidate in "${PYTHON:-}" python3.14 python3.13 python3.12 python3; do
    [ -n "$candidate" ] || continue
    path=$(command -v "$candidate" 2>/dev/null) || continue
    if ok "$path"; then echo "$path"; exit 0; fi
done
for path in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /opt/python*/bin/python3; do
    [ -x "$path" ] || continue
    if ok "$path"; then echo "$path"; exit 0; fi
done
echo "riskmodel needs Python 3.12 or newer, and none was found." >&2
echo "Install one (e.g. 'apt install python3.12 python3.12-venv', 'pyenv install 3.12', or python.org)," >&2
echo "or point to it with: make PYTHON=/path/to/python3.12 ..." >&2
exit 1
