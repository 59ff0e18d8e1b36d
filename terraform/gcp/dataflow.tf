# The batch pipeline as a Dataflow flex template: the spec (below) names the
# pipeline image as launcher; the launcher runs docker/flex_template_main.py, which is
# `gristmill run`, and the workers run the same image as their SDK container.

locals {
  template_spec = {
    image   = var.pipeline_image
    sdkInfo = { language = "PYTHON" }
    metadata = {
      name        = "gristmill"
      description = "Common Crawl WARCs to deduplicated, filtered, domain-tagged Parquet with a training manifest"
      parameters = [
        {
          name     = "input"
          label    = "Input spec"
          helpText = "https:// URL, s3:// prefix or cc:CC-MAIN-YYYY-WW:N (one spec per job)"
        },
        {
          name     = "output"
          label    = "Output folder"
          helpText = "gs://BUCKET/PREFIX the run writes data/, stats/ and manifest.json under"
        },
        {
          name       = "config"
          label      = "Config file"
          helpText   = "YAML config path inside the image, e.g. /opt/gristmill/configs/default.yaml"
          isOptional = true
        },
      ]
    }
  }
}

resource "google_storage_bucket_object" "flex_template_spec" {
  name         = "templates/gristmill.json"
  bucket       = google_storage_bucket.this["temp"].name
  content      = jsonencode(local.template_spec)
  content_type = "application/json"
}

resource "google_dataflow_flex_template_job" "pipeline" {
  count    = var.run_pipeline ? 1 : 0
  provider = google-beta

  name                    = "${var.name}-pipeline"
  region                  = var.region
  container_spec_gcs_path = "gs://${google_storage_bucket.this["temp"].name}/${google_storage_bucket_object.flex_template_spec.name}"
  parameters = {
    input  = var.pipeline_input
    output = "gs://${google_storage_bucket.this["data"].name}/${var.pipeline_output_prefix}"
  }

  sdk_container_image   = var.pipeline_image
  service_account_email = google_service_account.dataflow_worker.email
  temp_location         = "gs://${google_storage_bucket.this["temp"].name}/tmp"
  staging_location      = "gs://${google_storage_bucket.this["temp"].name}/staging"
  subnetwork            = google_compute_subnetwork.this.self_link
  ip_configuration      = "WORKER_IP_PRIVATE"
  kms_key_name          = google_kms_crypto_key.data.id
  machine_type          = var.dataflow_machine_type
  max_workers           = var.dataflow_max_workers
  labels                = var.labels
  on_delete             = "cancel"
  # A batch job ends; Terraform should not wait on (or fail over) its completion.
  skip_wait_on_job_termination = true

  depends_on = [
    google_project_iam_member.dataflow_worker,
    google_storage_bucket_iam_member.dataflow_buckets,
    google_artifact_registry_repository_iam_member.dataflow_pull,
    google_compute_router_nat.this,
  ]
}
