output "state_bucket" {
  description = "Name of the Terraform state bucket."
  value       = aws_s3_bucket.state.id
}

output "state_bucket_arn" {
  description = "ARN of the Terraform state bucket (for IAM policies of the plan and apply roles)."
  value       = aws_s3_bucket.state.arn
}

output "lock_table" {
  description = "Name of the DynamoDB lock table."
  value       = aws_dynamodb_table.lock.name
}

output "lock_table_arn" {
  description = "ARN of the DynamoDB lock table."
  value       = aws_dynamodb_table.lock.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts state and locks."
  value       = aws_kms_key.state.arn
}

output "kms_alias" {
  description = "Alias of the KMS key."
  value       = aws_kms_alias.state.name
}
