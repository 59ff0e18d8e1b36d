# gristmill on GCP: buckets, a CMEK key, a private network, the worker and trainer
# identities, the image registry, the Dataflow flex template job and the GKE GPU
# cluster. Files: network.tf, storage.tf, iam.tf, dataflow.tf, gke.tf.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  apis = [
    "artifactregistry.googleapis.com",
    "cloudkms.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "dataflow.googleapis.com",
    "iam.googleapis.com",
    "storage.googleapis.com",
  ]
  # Google-managed service agents that encrypt with the module's key on our behalf.
  service_agents = {
    storage          = "serviceAccount:service-${data.google_project.this.number}@gs-project-accounts.iam.gserviceaccount.com"
    artifactregistry = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-artifactregistry.iam.gserviceaccount.com"
    dataflow         = "serviceAccount:service-${data.google_project.this.number}@dataflow-service-producer-prod.iam.gserviceaccount.com"
    compute          = "serviceAccount:service-${data.google_project.this.number}@compute-system.iam.gserviceaccount.com"
    container        = "serviceAccount:service-${data.google_project.this.number}@container-engine-robot.iam.gserviceaccount.com"
  }
}

resource "google_project_service" "apis" {
  for_each = toset(local.apis)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# One customer-managed key for the buckets, the registry, Dataflow's disks and state,
# and the GKE boot disks and secrets: a revoked key makes all of them unreadable at once.
resource "google_kms_key_ring" "this" {
  name     = "${var.name}-keys"
  location = var.region

  depends_on = [google_project_service.apis]
}

resource "google_kms_crypto_key" "data" {
  name            = "${var.name}-data"
  key_ring        = google_kms_key_ring.this.id
  rotation_period = "7776000s" # 90 days
  labels          = var.labels

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "service_agents" {
  for_each = local.service_agents

  crypto_key_id = google_kms_crypto_key.data.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value
}
