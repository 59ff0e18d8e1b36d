variable "region" {
  description = "AWS region of the provider (Common Crawl's s3://commoncrawl is in us-east-1)."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix of the role and policy names."
  type        = string
  default     = "gristmill"
}

variable "google_service_account_unique_id" {
  description = "Numeric unique id of the GCP Dataflow worker identity (output dataflow_service_account_unique_id of ../gcp); its Google-signed ID tokens may assume the role."
  type        = string
}

variable "crawl_prefixes" {
  description = "Key prefixes of s3://commoncrawl the role may list and read."
  type        = list(string)
  default     = ["crawl-data/"]
}

variable "max_session_seconds" {
  description = "Longest session the role grants (a Dataflow worker refreshes before it ends)."
  type        = number
  default     = 3600
}

variable "tags" {
  description = "Tags of the role and policy."
  type        = map(string)
  default     = { app = "gristmill" }
}
