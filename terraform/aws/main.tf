# Read-only access to s3://commoncrawl (us-east-1) for gristmill's workers on GCP.
# Common Crawl's bucket refuses anonymous S3 requests, so S3 reads need AWS
# credentials; instead of a long-lived access key, the GCP worker identity exchanges
# its Google-signed ID token for this role (AssumeRoleWithWebIdentity, accounts.google.com).

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "GoogleWorkerIdentity"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = ["accounts.google.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "accounts.google.com:aud"
      values   = [var.google_service_account_unique_id]
    }

    condition {
      test     = "StringEquals"
      variable = "accounts.google.com:sub"
      values   = [var.google_service_account_unique_id]
    }
  }
}

data "aws_iam_policy_document" "read_commoncrawl" {
  statement {
    sid       = "ListCrawlPrefixes"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::commoncrawl"]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for p in var.crawl_prefixes : "${p}*"]
    }
  }

  statement {
    sid       = "ReadCrawlObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = [for p in var.crawl_prefixes : "arn:aws:s3:::commoncrawl/${p}*"]
  }
}

resource "aws_iam_role" "commoncrawl_reader" {
  name                 = "${var.name}-commoncrawl-reader"
  description          = "gristmill workers on GCP: read-only s3://commoncrawl"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_seconds
  tags                 = var.tags
}

resource "aws_iam_policy" "read_commoncrawl" {
  name        = "${var.name}-read-commoncrawl"
  description = "List and get objects under the crawl prefixes of s3://commoncrawl"
  policy      = data.aws_iam_policy_document.read_commoncrawl.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "read_commoncrawl" {
  role       = aws_iam_role.commoncrawl_reader.name
  policy_arn = aws_iam_policy.read_commoncrawl.arn
}
