# The training cluster: a private, VPC-native GKE Standard cluster with a small
# system pool and a GPU pool that scales from zero. GKE rather than a managed
# instance group: torchrun's multi-node launch maps onto an Indexed Job plus a
# headless Service (stable pod DNS for the rendezvous endpoint, one pod per node,
# restarts handled by the Job), GKE installs the NVIDIA driver, and workload identity
# gives pods the trainer identity without node-wide keys. `gristmill launch --k8s`
# writes that Job.

resource "google_container_cluster" "this" {
  #checkov:skip=CKV_GCP_24:PodSecurityPolicy was removed in Kubernetes 1.25; GKE enforces Pod Security Standards through namespace labels instead.
  name     = "${var.name}-train"
  location = var.region

  network         = google_compute_network.this.id
  subnetwork      = google_compute_subnetwork.this.id
  networking_mode = "VPC_NATIVE"

  # Node pools are managed below; the default pool is removed at creation.
  remove_default_node_pool = true
  initial_node_count       = 1
  node_locations           = var.gpu_zones

  resource_labels = var.labels

  release_channel {
    channel = "REGULAR"
  }

  ip_allocation_policy {
    cluster_secondary_range_name  = "pods"
    services_secondary_range_name = "services"
  }

  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = true
    master_ipv4_cidr_block  = var.master_cidr

    master_global_access_config {
      enabled = false
    }
  }

  master_authorized_networks_config {
    cidr_blocks {
      cidr_block   = var.subnet_cidr
      display_name = "cluster subnet"
    }

    dynamic "cidr_blocks" {
      for_each = var.master_authorized_cidrs
      content {
        display_name = cidr_blocks.key
        cidr_block   = cidr_blocks.value
      }
    }
  }

  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }

  enable_legacy_abac          = false
  enable_shielded_nodes       = true
  enable_intranode_visibility = true

  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  network_policy {
    enabled  = true
    provider = "CALICO"
  }

  addons_config {
    network_policy_config {
      disabled = false
    }
    # Pods mount the data and checkpoint buckets as volumes (gcsfuse).
    gcs_fuse_csi_driver_config {
      enabled = true
    }
  }

  database_encryption {
    state    = "ENCRYPTED"
    key_name = google_kms_crypto_key.data.id
  }

  binary_authorization {
    evaluation_mode = "PROJECT_SINGLETON_POLICY_ENFORCE"
  }

  authenticator_groups_config {
    security_group = var.security_group
  }

  logging_config {
    enable_components = ["SYSTEM_COMPONENTS", "WORKLOADS"]
  }

  monitoring_config {
    enable_components = ["SYSTEM_COMPONENTS"]
  }

  # The removed default pool must still meet the node baseline while it exists.
  node_config {
    service_account = google_service_account.gke_nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    image_type      = "COS_CONTAINERD"

    metadata = {
      disable-legacy-endpoints = "true"
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }

  depends_on = [google_project_service.apis, google_kms_crypto_key_iam_member.service_agents]
}

# kube-system, the GCS FUSE sidecar controller and other non-GPU pods.
resource "google_container_node_pool" "system" {
  name       = "system"
  cluster    = google_container_cluster.this.id
  node_count = 1

  management {
    auto_repair  = true
    auto_upgrade = true
  }

  node_config {
    machine_type      = "e2-standard-4"
    service_account   = google_service_account.gke_nodes.email
    oauth_scopes      = ["https://www.googleapis.com/auth/cloud-platform"]
    image_type        = "COS_CONTAINERD"
    boot_disk_kms_key = google_kms_crypto_key.data.id
    labels            = var.labels

    metadata = {
      disable-legacy-endpoints = "true"
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }
}

# One torchrun node per VM: gpus_per_node GPUs each, scaled from zero, in one zone.
resource "google_container_node_pool" "gpu" {
  name           = "gpu"
  cluster        = google_container_cluster.this.id
  node_locations = var.gpu_zones

  autoscaling {
    total_min_node_count = 0
    total_max_node_count = var.gpu_nodes_max
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }

  # Upgrades never drain a node that runs a training rank mid-step with a surge node.
  upgrade_settings {
    max_surge       = 0
    max_unavailable = 1
  }

  node_config {
    machine_type      = var.gpu_machine_type
    service_account   = google_service_account.gke_nodes.email
    oauth_scopes      = ["https://www.googleapis.com/auth/cloud-platform"]
    image_type        = "COS_CONTAINERD"
    boot_disk_kms_key = google_kms_crypto_key.data.id
    disk_size_gb      = 200
    labels            = merge(var.labels, { role = "train" })

    guest_accelerator {
      type  = var.gpu_type
      count = var.gpus_per_node

      gpu_driver_installation_config {
        gpu_driver_version = "LATEST"
      }
    }

    # GKE also taints GPU nodes nvidia.com/gpu=present:NoSchedule; only pods that
    # request GPUs (the training Job) land here.
    metadata = {
      disable-legacy-endpoints = "true"
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
  }
}
