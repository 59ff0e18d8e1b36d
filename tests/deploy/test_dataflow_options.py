"""The real graph, submitted to DataflowRunner in dry-run mode: everything up to the API call.

`--dry_run=True` makes DataflowRunner build the portable proto, apply its own overrides
and stage nothing remotely, then return before it contacts the service, so these tests
run offline. They need apache-beam[gcp] (the `gcp` extra, part of `dev`).
"""

from __future__ import annotations

import pytest
from conftest import skip_or_fail  # tests/ is on sys.path: pytest puts conftest.py's folder there

try:
    import apache_beam.runners.dataflow.internal.apiclient  # noqa: F401 -- DataflowRunner's client side
except ImportError:
    skip_or_fail("DataflowRunner needs apache-beam[gcp]: pip install -e '.[gcp]'")

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions  # noqa: E402
from apache_beam.options.pipeline_options_validator import PipelineOptionsValidator  # noqa: E402
from apache_beam.portability import common_urns  # noqa: E402
from apache_beam.portability.api import beam_runner_api_pb2  # noqa: E402
from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner  # noqa: E402

from gristmill import __version__  # noqa: E402
from pipeline.config import GristmillConfig  # noqa: E402
from pipeline.fixtures.demo_corpus import write_sample_warc  # noqa: E402
from pipeline.graph import build_pipeline  # noqa: E402
from pipeline.runner import pipeline_options  # noqa: E402
from tests.conftest import REPO  # noqa: E402

IMAGE = "us-east4-docker.pkg.dev/my-project/gristmill/pipeline:0.1.0"
STAGES = [
    "ReadWarc",
    "ExtractText",
    "IdentifyLanguage",
    "ApplySafety",
    "DedupLines",
    "Deduplicate",
    "ApplyQuality",
    "TagDomains",
    "WriteShards",
    "RecordFunnel",
    "RecordStats",
    "WriteManifest",
]


def _dataflow_args(*extra: str) -> list[str]:
    return [
        "--runner=DataflowRunner",
        "--project=my-project",
        "--region=us-east4",
        "--temp_location=gs://my-bucket/tmp",
        "--dry_run=True",
        *extra,
    ]


def _dry_run(beam_args: list[str], tmp_path) -> tuple[beam_runner_api_pb2.Pipeline, PipelineOptions]:
    """Build gristmill's graph with the command line's options and hand it to DataflowRunner, unsubmitted."""
    warc = tmp_path / "sample.warc.gz"
    write_sample_warc(str(warc))
    options, config = pipeline_options(beam_args, GristmillConfig())
    runner = DataflowRunner()
    p = beam.Pipeline(runner=runner, options=options)
    build_pipeline(p, inputs=[str(warc)], output_dir="gs://my-bucket/out", config=config, version=__version__)
    p.run().wait_until_finish()
    return runner.proto_pipeline, options


def _environments(proto: beam_runner_api_pb2.Pipeline) -> list[beam_runner_api_pb2.Environment]:
    return [env for env in proto.components.environments.values() if env.urn == common_urns.environments.DOCKER.urn]


def _image(env: beam_runner_api_pb2.Environment) -> str:
    return beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image


def test_custom_container_proto_holds_the_graph_and_the_image(tmp_path):
    proto, options = _dry_run(_dataflow_args(f"--sdk_container_image={IMAGE}"), tmp_path)
    names = {t.unique_name for t in proto.components.transforms.values()}
    assert set(STAGES) <= names, f"missing stages: {set(STAGES) - names}"
    envs = _environments(proto)
    assert envs and {_image(env) for env in envs} == {IMAGE}
    staged = {a.role_payload for env in envs for a in env.dependencies}
    assert not any(
        b"workflow.tar.gz" in payload for payload in staged
    )  # the image carries the code: nothing to install
    assert PipelineOptionsValidator(options, DataflowRunner()).validate() == []


def test_setup_file_stages_the_package_on_the_default_image(tmp_path):
    proto, options = _dry_run(_dataflow_args(f"--setup_file={REPO / 'setup.py'}"), tmp_path)
    envs = _environments(proto)
    assert {_image(env) for env in envs} == {f"gcr.io/cloud-dataflow/v1beta3/beam_python3.11_sdk:{beam.__version__}"}
    staged = {
        beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(a.role_payload).staged_name
        for env in envs
        for a in env.dependencies
    }
    assert "workflow.tar.gz" in staged  # the sdist of setup.py, installed by each worker's boot
    assert options.view_as(GoogleCloudOptions).project == "my-project"


# (A non-gs:// temp_location is not among these: Beam then looks for a default bucket online.)
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("--project=", "Invalid Project ID"),
        ("--job_name=Bad_Name", "Invalid job_name"),
        ("--num_workers=-1", "num_workers"),
    ],
)
def test_dataflow_options_validation_names_the_bad_option(bad, message):
    options = PipelineOptions(_dataflow_args(f"--sdk_container_image={IMAGE}", bad))
    errors = PipelineOptionsValidator(options, DataflowRunner()).validate()
    assert any(message in error for error in errors), errors
