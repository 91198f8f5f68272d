#!/usr/bin/env bash
# Re-execute tutorial notebooks in place, so that their committed outputs match the code.
#
#   bash tutorials/execute.sh                      # every notebook in tutorials/
#   bash tutorials/execute.sh quickstart.ipynb     # only the ones named
#
# Uses the default "python3" kernel of the Python that runs Jupyter (override with
# PYTHON=/path/to/python); grnlink must be installed there.
set -euo pipefail
cd "$(dirname "$0")"
python=${PYTHON:-python}
# the python3 kernelspec launches "python" from PATH: make that the same interpreter
PATH="$(dirname "$("$python" -c 'import sys; print(sys.executable)')"):$PATH"
export PATH

if [ "$#" -gt 0 ]; then notebooks=("$@"); else notebooks=(*.ipynb); fi
for notebook in "${notebooks[@]}"; do
  echo "executing tutorials/$notebook"
  "$python" -m jupyter nbconvert --to notebook --execute --inplace "$notebook" \
    --ExecutePreprocessor.kernel_name=python3 \
    --ExecutePreprocessor.timeout=600 \
    --ExecutePreprocessor.record_timing=False
done
