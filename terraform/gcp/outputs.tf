output "data_bucket" {
  description = "Pipeline outputs: pass gs://BUCKET/PREFIX as `gristmill run --output`."
  value       = google_storage_bucket.this["data"].name
}

output "temp_bucket" {
  description = "Dataflow --temp_location / --staging_location bucket; holds the flex template spec."
  value       = google_storage_bucket.this["temp"].name
}

output "checkpoints_bucket" {
  description = "Trainer run folders (mounted into the training pods)."
  value       = google_storage_bucket.this["checkpoints"].name
}

output "image_repository" {
  description = "Docker repository: push pipeline and trainer images under this prefix."
  value       = "${google_artifact_registry_repository.images.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "dataflow_service_account" {
  description = "Pass as --service_account_email to `gristmill run --runner DataflowRunner`."
  value       = google_service_account.dataflow_worker.email
}

output "dataflow_service_account_unique_id" {
  description = "Numeric id of the worker identity: the AWS module's trust policy matches it."
  value       = google_service_account.dataflow_worker.unique_id
}

output "trainer_service_account" {
  description = "Annotate the training pods' Kubernetes service account with it (iam.gke.io/gcp-service-account)."
  value       = google_service_account.trainer.email
}

output "subnetwork" {
  description = "Pass as --subnetwork (with --no_use_public_ips) to Dataflow jobs."
  value       = google_compute_subnetwork.this.self_link
}

output "kms_key" {
  description = "Pass as --dataflow_kms_key to Dataflow jobs launched by hand."
  value       = google_kms_crypto_key.data.id
}

output "flex_template_spec" {
  description = "gs:// path of the flex template spec (gcloud dataflow flex-template run --template-file-gcs-location)."
  value       = "gs://${google_storage_bucket.this["temp"].name}/${google_storage_bucket_object.flex_template_spec.name}"
}

output "cluster_name" {
  description = "GKE training cluster (gcloud container clusters get-credentials NAME --region REGION --internal-ip)."
  value       = google_container_cluster.this.name
}

output "pipeline_job_id" {
  description = "Id of the Dataflow job when run_pipeline is true."
  value       = one(google_dataflow_flex_template_job.pipeline[*].job_id)
}
