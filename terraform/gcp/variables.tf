variable "project_id" {
  description = "GCP project that holds every resource of this module."
  type        = string
}

variable "region" {
  description = "Region of the buckets, the Dataflow job, the registry and the GKE cluster. us-east4 is close to Common Crawl (AWS us-east-1) and offers H100 and L4 GPUs."
  type        = string
  default     = "us-east4"
}

variable "name" {
  description = "Prefix of every resource name (lowercase letters, digits, hyphens)."
  type        = string
  default     = "gristmill"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.name))
    error_message = "name: 3-21 characters, lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = { app = "gristmill" }
}

variable "subnet_cidr" {
  description = "Primary range of the subnet shared by Dataflow workers and GKE nodes."
  type        = string
  default     = "10.20.0.0/20"
}

variable "pods_cidr" {
  description = "Secondary range for GKE pods (VPC-native cluster)."
  type        = string
  default     = "10.24.0.0/14"
}

variable "services_cidr" {
  description = "Secondary range for GKE services."
  type        = string
  default     = "10.28.0.0/20"
}

variable "master_cidr" {
  description = "The /28 the private GKE control plane uses."
  type        = string
  default     = "172.16.0.32/28"
}

variable "master_authorized_cidrs" {
  description = "Networks allowed to reach the GKE control plane (kubectl). Empty: only the subnet itself."
  type        = map(string)
  default     = {}
}

variable "temp_retention_days" {
  description = "Days before Dataflow temp and staging objects are deleted."
  type        = number
  default     = 7
}

variable "noncurrent_retention_days" {
  description = "Days an overwritten or deleted object version of the output and checkpoint buckets is kept."
  type        = number
  default     = 30
}

variable "pipeline_image" {
  description = "Beam worker image (docker/pipeline.Dockerfile) in the module's registry, with its tag, e.g. us-east4-docker.pkg.dev/PROJECT/gristmill/pipeline:0.1.0. Used as the flex template launcher and as the workers' SDK container."
  type        = string
  default     = ""
}

variable "run_pipeline" {
  description = "Whether to launch the Dataflow flex template job (needs pipeline_image pushed and pipeline_input set)."
  type        = bool
  default     = false
}

variable "pipeline_input" {
  description = "gristmill input spec for the job: https:// URL, s3:// prefix or cc:CC-MAIN-YYYY-WW:N (one spec per job)."
  type        = string
  default     = "cc:CC-MAIN-2024-10:10"
}

variable "pipeline_output_prefix" {
  description = "Folder inside the output bucket the job writes to."
  type        = string
  default     = "runs/first"
}

variable "dataflow_max_workers" {
  description = "Upper bound of Dataflow autoscaling."
  type        = number
  default     = 50
}

variable "dataflow_machine_type" {
  description = "Dataflow worker machine type (extraction and MinHash are CPU-bound; 4 GiB per vCPU leaves room for dedup shuffles)."
  type        = string
  default     = "n2-standard-8"
}

variable "gpu_machine_type" {
  description = "Machine type of the GPU training nodes; must carry gpu_type. a3-highgpu-8g: 8 x H100 80 GB."
  type        = string
  default     = "a3-highgpu-8g"
}

variable "gpu_type" {
  description = "Accelerator type attached to each GPU node."
  type        = string
  default     = "nvidia-h100-80gb"
}

variable "gpus_per_node" {
  description = "Accelerators per GPU node (torchrun --nproc-per-node)."
  type        = number
  default     = 8
}

variable "gpu_nodes_max" {
  description = "Most GPU nodes the training pool scales to (torchrun --nnodes). The pool scales to zero when idle."
  type        = number
  default     = 2
}

variable "gpu_zones" {
  description = "Zones of the GPU pool; one zone keeps NCCL traffic off inter-zone links. Empty: the region's first zone the cluster picks."
  type        = list(string)
  default     = ["us-east4-a"]
}

variable "trainer_namespace" {
  description = "Kubernetes namespace of the training Job (workload identity binding)."
  type        = string
  default     = "gristmill"
}

variable "trainer_ksa" {
  description = "Kubernetes service account the training pods run as (workload identity binding)."
  type        = string
  default     = "gristmill-trainer"
}

variable "launcher_members" {
  description = "Principals allowed to launch Dataflow jobs as the worker service account (e.g. group:data-eng@example.com)."
  type        = list(string)
  default     = []
}

variable "security_group" {
  description = "Google Group for GKE RBAC (must be named gke-security-groups@YOURDOMAIN and exist in Cloud Identity)."
  type        = string
  default     = "gke-security-groups@example.com"
}
