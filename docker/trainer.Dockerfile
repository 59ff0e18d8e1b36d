# The trainer image: `torchrun ... -m trainer.train --data TOKENS --out RUN` on GPU
# nodes (the GKE GPU pool of terraform/gcp; `gristmill launch` writes the commands
# and the Kubernetes Job). Build from the repository root:
#
#   docker build -f docker/trainer.Dockerfile -t IMAGE .
#
# Base: the official PyTorch runtime image, torch 2.9.0 built against CUDA 12.8 and
# cuDNN 9. CUDA 12.8 runs on Ampere (A100), Ada (L4), Hopper (H100/H200) and
# Blackwell GPUs with the drivers GKE installs; "runtime" carries the CUDA libraries
# without the compilers (torch.compile's Triton kernels need no nvcc). setup.py asks
# for torch>=2.3, so pip keeps this torch instead of downloading another.
FROM pytorch/pytorch:2.9.0-cuda12.8-cudnn9-runtime

ARG GRISTMILL_UID=10001

WORKDIR /opt/gristmill
COPY setup.py README.md ./
COPY gristmill ./gristmill
COPY pipeline ./pipeline
COPY filters ./filters
COPY classifiers ./classifiers
COPY trainer ./trainer
COPY configs ./configs

# The package and its `train` extra (tokenizers); torch comes from the base image.
RUN pip install --no-cache-dir "/opt/gristmill[train]" \
    && python -c "import torch, tokenizers, trainer.train" \
    && groupadd --gid "${GRISTMILL_UID}" gristmill \
    && useradd --uid "${GRISTMILL_UID}" --gid "${GRISTMILL_UID}" --create-home --shell /usr/sbin/nologin gristmill

# Caches (Triton/inductor kernels, HF tokenizers) go to the user's home, not to /root.
ENV HOME=/home/gristmill \
    TORCHINDUCTOR_CACHE_DIR=/home/gristmill/.cache/inductor \
    PYTHONUNBUFFERED=1

USER ${GRISTMILL_UID}:${GRISTMILL_UID}
WORKDIR /home/gristmill

ENTRYPOINT ["torchrun"]
CMD ["--help"]
