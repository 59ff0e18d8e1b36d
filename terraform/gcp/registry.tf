# One Docker repository for both images (pipeline, trainer); tags are immutable so a
# job always runs the image it was launched with.
resource "google_artifact_registry_repository" "images" {
  location      = var.region
  repository_id = var.name
  description   = "gristmill images: pipeline (Beam worker, flex template launcher) and trainer"
  format        = "DOCKER"
  kms_key_name  = google_kms_crypto_key.data.id
  labels        = var.labels

  docker_config {
    immutable_tags = true
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 20
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.service_agents]
}
