# Buckets: pipeline outputs (Parquet, manifest, stats), Dataflow temp and staging,
# training checkpoints, and the access log sink of the other three. All private
# (uniform access, public access prevention), CMEK-encrypted, versioned.

locals {
  buckets = {
    data = {
      purpose           = "pipeline outputs: data/, stats/, manifest.json, tokenized shards"
      delete_after_days = null
      soft_delete_secs  = 604800 # the default 7 days: outputs are worth recovering
    }
    temp = {
      purpose           = "Dataflow temp_location and staging_location, flex template spec"
      delete_after_days = var.temp_retention_days
      soft_delete_secs  = 0 # Beam warns about soft delete on temp buckets: it bills every shuffle file twice
    }
    checkpoints = {
      purpose           = "trainer run folders: checkpoints, metrics.jsonl, run.json"
      delete_after_days = null
      soft_delete_secs  = 604800
    }
  }
}

# The GCS service agent must exist and hold the key role before a bucket can use CMEK.
data "google_storage_project_service_account" "this" {
  project = var.project_id
}

resource "google_storage_bucket" "logs" {
  #checkov:skip=CKV_GCP_62:This is the access-log sink; logging it to itself would log its own log writes without end.
  name                        = "${var.project_id}-${var.name}-access-logs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = var.labels

  versioning {
    enabled = true
  }

  encryption {
    default_kms_key_name = google_kms_crypto_key.data.id
  }

  lifecycle_rule {
    condition {
      age = 365
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.service_agents, data.google_storage_project_service_account.this]
}

resource "google_storage_bucket" "this" {
  for_each = local.buckets

  name                        = "${var.project_id}-${var.name}-${each.key}"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = merge(var.labels, { purpose = each.key })

  versioning {
    enabled = true
  }

  encryption {
    default_kms_key_name = google_kms_crypto_key.data.id
  }

  logging {
    log_bucket        = google_storage_bucket.logs.name
    log_object_prefix = each.key
  }

  soft_delete_policy {
    retention_duration_seconds = each.value.soft_delete_secs
  }

  # Overwritten or deleted versions are kept for a while, then removed.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = each.key == "temp" ? 1 : var.noncurrent_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  dynamic "lifecycle_rule" {
    for_each = each.value.delete_after_days == null ? [] : [each.value.delete_after_days]
    content {
      condition {
        age = lifecycle_rule.value
      }
      action {
        type = "Delete"
      }
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.service_agents, data.google_storage_project_service_account.this]
}
