terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

# Common Crawl's bucket lives in us-east-1; IAM is global, but keep the provider there.
provider "aws" {
  region = var.region
}
