output "zone_id" {
  description = "ID of the hosted zone."
  value       = local.zone_id
}

output "zone_arn" {
  description = "ARN of the hosted zone (external-dns may change records in it)."
  value       = var.create_zone ? aws_route53_zone.this[0].arn : data.aws_route53_zone.this[0].arn
}

output "certificate_arn" {
  description = "ARN of the validated ACM certificate (for the ALB ingress annotation)."
  value       = aws_acm_certificate_validation.this.certificate_arn
}

output "domain_name" {
  description = "Name the environment is served at."
  value       = var.domain_name
}
