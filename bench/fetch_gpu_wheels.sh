#!/usr/bin/env bash
# The wheels bench/gpu_film.py needs on the lent GPU machine (Python 3.12, torch, transformers, accelerate, numpy,
# scipy, opencv, pillow, huggingface-hub already there; no diffusers, pydantic, moviepy): downloaded into .whl/
# (in .gitignore), each without its dependencies (the ones it needs are named here), as the device README says.
# There, before the bench:
#   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
#   export PYTHONPATH=/tmp/site
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
PYTHON=${PYTHON:-python3}
WHEELS=(
  diffusers==0.42.1 importlib-metadata==10.2.0 zipp==3.23.0   # the pipelines (LTX-2, ACE-Step) and what it imports
  pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5  # storyreel's options
  # imageio-ffmpeg 0.6.0 (ffmpeg 7, libx264: 29 MB) rather than 0.8.1 (68 MB): the 64 MiB that travel
  moviepy==2.2.1 proglog==0.1.12 decorator==5.3.1 python-dotenv==1.2.4 imageio-ffmpeg==0.6.0  # segments, film
  pyloudnorm==0.2.0                                             # the mix's loudness
  espeakng-loader==0.2.4                                        # narration (espeak-ng)
)
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any -d .whl "${WHEELS[@]}"
du -ch .whl/*.whl | tail -1
