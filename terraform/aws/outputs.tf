output "role_arn" {
  description = "Role the workers assume (AWS_ROLE_ARN with a web identity token file, or sts:AssumeRoleWithWebIdentity)."
  value       = aws_iam_role.commoncrawl_reader.arn
}

output "policy_arn" {
  description = "The read-only Common Crawl policy."
  value       = aws_iam_policy.read_commoncrawl.arn
}
