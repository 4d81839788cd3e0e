locals {
  zone_id = var.create_zone ? aws_route53_zone.this[0].zone_id : data.aws_route53_zone.this[0].zone_id
  sans    = var.subject_alternative_names != null ? var.subject_alternative_names : ["*.${var.domain_name}"]
}

resource "aws_route53_zone" "this" {
  count = var.create_zone ? 1 : 0

  name    = var.zone_name
  comment = "techitfactory shop (managed by Terraform)"
  tags    = var.tags

  lifecycle {
    prevent_destroy = true # deleting the zone breaks delegation at the registrar
  }
}

data "aws_route53_zone" "this" {
  count = var.create_zone ? 0 : 1

  name         = var.zone_name
  private_zone = false
}

# Only the listed CAs may issue certificates for the environment's name.
resource "aws_route53_record" "caa" {
  zone_id = local.zone_id
  name    = var.domain_name
  type    = "CAA"
  ttl     = 3600
  records = [for issuer in var.caa_issuers : "0 issue \"${issuer}\""]
}

resource "aws_acm_certificate" "this" {
  domain_name               = var.domain_name
  subject_alternative_names = local.sans
  validation_method         = "DNS"
  key_algorithm             = "RSA_2048"
  tags                      = merge(var.tags, { Name = var.domain_name })

  options {
    certificate_transparency_logging_preference = "ENABLED"
  }

  lifecycle {
    create_before_destroy = true # a listener always has a valid certificate
  }

  depends_on = [aws_route53_record.caa]
}

# The wildcard and the apex share one validation record, hence the de-duplication.
resource "aws_route53_record" "validation" {
  for_each = {
    for option in aws_acm_certificate.this.domain_validation_options : option.resource_record_name => option...
  }

  zone_id         = local.zone_id
  name            = each.key
  type            = each.value[0].resource_record_type
  ttl             = 300
  records         = [each.value[0].resource_record_value]
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]
}
