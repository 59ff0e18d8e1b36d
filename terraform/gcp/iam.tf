# Three identities, each with only what it uses:
#   dataflow worker: run Dataflow work items, read/write its two buckets, pull the pipeline image;
#   trainer (GKE workload identity): read the data bucket, write the checkpoint bucket;
#   GKE nodes: write logs and metrics, pull images.
# Bucket and repository roles are granted on the resource, never on the project.

resource "google_service_account" "dataflow_worker" {
  account_id   = "${var.name}-dataflow"
  display_name = "gristmill Dataflow workers and flex template launcher"
}

resource "google_service_account" "trainer" {
  account_id   = "${var.name}-trainer"
  display_name = "gristmill training pods (GKE workload identity)"
}

resource "google_service_account" "gke_nodes" {
  account_id   = "${var.name}-gke-nodes"
  display_name = "gristmill GKE node VMs"
}

# roles/dataflow.worker is project-scoped by nature (it leases the job's work items);
# it carries no data access of its own.
resource "google_project_iam_member" "dataflow_worker" {
  project = var.project_id
  role    = "roles/dataflow.worker"
  member  = google_service_account.dataflow_worker.member
}

resource "google_storage_bucket_iam_member" "dataflow_buckets" {
  for_each = toset(["data", "temp"])

  bucket = google_storage_bucket.this[each.key].name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.dataflow_worker.member
}

resource "google_artifact_registry_repository_iam_member" "dataflow_pull" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = google_service_account.dataflow_worker.member
}

# Who may start jobs that run as the worker identity.
resource "google_service_account_iam_member" "launchers" {
  for_each = toset(var.launcher_members)

  service_account_id = google_service_account.dataflow_worker.name
  role               = "roles/iam.serviceAccountUser"
  member             = each.value
}

resource "google_storage_bucket_iam_member" "trainer_read_data" {
  bucket = google_storage_bucket.this["data"].name
  role   = "roles/storage.objectViewer"
  member = google_service_account.trainer.member
}

resource "google_storage_bucket_iam_member" "trainer_checkpoints" {
  bucket = google_storage_bucket.this["checkpoints"].name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.trainer.member
}

# The Kubernetes service account NAMESPACE/KSA acts as the trainer identity.
resource "google_service_account_iam_member" "trainer_workload_identity" {
  service_account_id = google_service_account.trainer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.trainer_namespace}/${var.trainer_ksa}]"

  depends_on = [google_container_cluster.this]
}

# The minimum GKE documents for a node service account.
resource "google_project_iam_member" "gke_nodes" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.gke_nodes.member
}

resource "google_artifact_registry_repository_iam_member" "gke_nodes_pull" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = google_service_account.gke_nodes.member
}
